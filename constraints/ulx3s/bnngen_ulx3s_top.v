// ULX3S (ECP5 LFE5U-25F/85F, CABGA381) board top: 25 MHz oscillator, the FTDI UART
// (115200 8N1: set BNNGEN_CLKS_PER_BIT=217), LED 0 = sticky error, LED 1 toggles with every
// frame. See common/bnngen_board_core.v for the defines that select the accelerator.
//
// With BNNGEN_PLL defined (`bnngen synth --pll`), the accelerator runs from an EHXPLLL with
// feedback from CLKOP and the dividers BNNGEN_PLL_CLKI_DIV, _CLKFB_DIV, _CLKOP_DIV and
// _CLKOP_CPHASE, and stays in reset until the PLL locks. Verilog-2005.

module bnngen_ulx3s_top (
    input  wire       clk_25mhz,
    input  wire       ftdi_txd,  // UART from the host
    output wire       ftdi_rxd,  // UART to the host
    output wire [1:0] led        // active high
);
    wire clk;
    wire locked;
`ifdef BNNGEN_PLL
    EHXPLLL #(
        .FEEDBK_PATH("CLKOP"),
        .CLKI_DIV(`BNNGEN_PLL_CLKI_DIV),
        .CLKFB_DIV(`BNNGEN_PLL_CLKFB_DIV),
        .CLKOP_ENABLE("ENABLED"),
        .CLKOP_DIV(`BNNGEN_PLL_CLKOP_DIV),
        .CLKOP_CPHASE(`BNNGEN_PLL_CLKOP_CPHASE),
        .CLKOP_FPHASE(0)
    ) u_pll (
        .CLKI(clk_25mhz), .CLKFB(clk), .CLKOP(clk), .LOCK(locked),
        .RST(1'b0), .STDBY(1'b0), .PHASESEL0(1'b0), .PHASESEL1(1'b0), .PHASEDIR(1'b0),
        .PHASESTEP(1'b0), .PHASELOADREG(1'b0), .PLLWAKESYNC(1'b0), .ENCLKOP(1'b0)
    );
`else
    assign clk = clk_25mhz;
    assign locked = 1'b1;
`endif
    bnngen_board_core u_core (
        .clk(clk), .locked(locked), .rx(ftdi_txd), .tx(ftdi_rxd), .error(led[0]),
        .frame_toggle(led[1])
    );
endmodule
