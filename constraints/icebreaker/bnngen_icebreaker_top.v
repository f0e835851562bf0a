// iCEBreaker (iCE40UP5K-SG48) board top: 12 MHz oscillator, the FTDI UART (115200 8N1 by
// default), red LED = sticky error, green LED toggles with every frame. See
// common/bnngen_board_core.v for the defines that select the accelerator.
//
// With BNNGEN_PLL defined (`bnngen synth --pll`), the accelerator runs from the PLL on the
// oscillator's pad (pin 35 is the UP5K's PLL input), with the dividers BNNGEN_PLL_DIVR,
// _DIVF, _DIVQ and _FILTER_RANGE, and stays in reset until the PLL locks. Verilog-2005.

module bnngen_icebreaker_top (
`ifdef BNNGEN_WLOAD
    output wire FLASH_SCK,  // the configuration flash, read again after configuration
    output wire FLASH_SSB,
    output wire FLASH_IO0,  // MOSI
    input  wire FLASH_IO1,  // MISO
`endif
    input  wire CLK,     // 12 MHz
    input  wire RX,      // UART from the host (FTDI TXD)
    output wire TX,      // UART to the host (FTDI RXD)
    output wire LEDR_N,  // red LED, active low
    output wire LEDG_N   // green LED, active low
);
    wire clk;
    wire locked;
`ifdef BNNGEN_PLL
    SB_PLL40_PAD #(
        .FEEDBACK_PATH("SIMPLE"),
        .DIVR(`BNNGEN_PLL_DIVR),
        .DIVF(`BNNGEN_PLL_DIVF),
        .DIVQ(`BNNGEN_PLL_DIVQ),
        .FILTER_RANGE(`BNNGEN_PLL_FILTER_RANGE)
    ) u_pll (
        .PACKAGEPIN(CLK), .PLLOUTGLOBAL(clk), .LOCK(locked), .RESETB(1'b1), .BYPASS(1'b0)
    );
`else
    assign clk = CLK;
    assign locked = 1'b1;
`endif
    wire error;
    wire frame_toggle;
    bnngen_board_core u_core (
`ifdef BNNGEN_WLOAD
        .flash_sck(FLASH_SCK), .flash_cs_n(FLASH_SSB), .flash_mosi(FLASH_IO0),
        .flash_miso(FLASH_IO1),
`endif
        .clk(clk), .locked(locked), .rx(RX), .tx(TX), .error(error),
        .frame_toggle(frame_toggle)
    );
    assign LEDR_N = !error;
    assign LEDG_N = !frame_toggle;
endmodule
