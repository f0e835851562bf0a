// iCE40-HX8K breakout board (iCE40HX8K-CT256) board top: 12 MHz oscillator, the FTDI
// channel B UART (115200 8N1 by default), LED D2 = sticky error, LED D3 toggles with every
// frame. See common/bnngen_board_core.v for the defines that select the accelerator.
//
// With BNNGEN_PLL defined (`bnngen synth --pll`), the accelerator runs from an SB_PLL40_CORE
// fed by the oscillator, with the dividers BNNGEN_PLL_DIVR, _DIVF, _DIVQ and _FILTER_RANGE,
// and stays in reset until the PLL locks. Verilog-2005.

module bnngen_hx8k_breakout_top (
    input  wire CLK,    // 12 MHz
    input  wire RX,     // UART from the host
    output wire TX,     // UART to the host
    output wire LED0,   // active high
    output wire LED1    // active high
);
    wire clk;
    wire locked;
`ifdef BNNGEN_PLL
    SB_PLL40_CORE #(
        .FEEDBACK_PATH("SIMPLE"),
        .DIVR(`BNNGEN_PLL_DIVR),
        .DIVF(`BNNGEN_PLL_DIVF),
        .DIVQ(`BNNGEN_PLL_DIVQ),
        .FILTER_RANGE(`BNNGEN_PLL_FILTER_RANGE)
    ) u_pll (
        .REFERENCECLK(CLK), .PLLOUTGLOBAL(clk), .LOCK(locked), .RESETB(1'b1), .BYPASS(1'b0)
    );
`else
    assign clk = CLK;
    assign locked = 1'b1;
`endif
    bnngen_board_core u_core (
        .clk(clk), .locked(locked), .rx(RX), .tx(TX), .error(LED0), .frame_toggle(LED1)
    );
endmodule
