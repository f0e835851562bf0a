// iCE40-HX8K breakout board (iCE40HX8K-CT256) board top: 12 MHz oscillator, the FTDI
// channel B UART (115200 8N1 by default), LED D2 = sticky error, LED D3 toggles with every
// frame. See common/bnngen_board_core.v for the defines that select the accelerator.
// Verilog-2005.

module bnngen_hx8k_breakout_top (
    input  wire CLK,    // 12 MHz
    input  wire RX,     // UART from the host
    output wire TX,     // UART to the host
    output wire LED0,   // active high
    output wire LED1    // active high
);
    bnngen_board_core u_core (
        .clk(CLK), .rx(RX), .tx(TX), .error(LED0), .frame_toggle(LED1)
    );
endmodule
