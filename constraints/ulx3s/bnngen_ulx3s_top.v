// ULX3S (ECP5 LFE5U-25F/85F, CABGA381) board top: 25 MHz oscillator, the FTDI UART
// (115200 8N1: set BNNGEN_CLKS_PER_BIT=217), LED 0 = sticky error, LED 1 toggles with every
// frame. See common/bnngen_board_core.v for the defines that select the accelerator.
// Verilog-2005.

module bnngen_ulx3s_top (
    input  wire       clk_25mhz,
    input  wire       ftdi_txd,  // UART from the host
    output wire       ftdi_rxd,  // UART to the host
    output wire [1:0] led        // active high
);
    bnngen_board_core u_core (
        .clk(clk_25mhz), .rx(ftdi_txd), .tx(ftdi_rxd), .error(led[0]), .frame_toggle(led[1])
    );
endmodule
