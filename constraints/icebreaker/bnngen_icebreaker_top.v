// iCEBreaker (iCE40UP5K-SG48) board top: 12 MHz oscillator, the FTDI UART (115200 8N1 by
// default), red LED = sticky error, green LED toggles with every frame. See
// common/bnngen_board_core.v for the defines that select the accelerator. Verilog-2005.

module bnngen_icebreaker_top (
    input  wire CLK,     // 12 MHz
    input  wire RX,      // UART from the host (FTDI TXD)
    output wire TX,      // UART to the host (FTDI RXD)
    output wire LEDR_N,  // red LED, active low
    output wire LEDG_N   // green LED, active low
);
    wire error;
    wire frame_toggle;
    bnngen_board_core u_core (
        .clk(CLK), .rx(RX), .tx(TX), .error(error), .frame_toggle(frame_toggle)
    );
    assign LEDR_N = !error;
    assign LEDG_N = !frame_toggle;
endmodule
