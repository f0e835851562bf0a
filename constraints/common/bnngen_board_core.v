// bnngen board core: power-on reset + UART bridge + the generated accelerator. Every board top
// wraps this module and only maps pins, so the same logic runs (and is simulated) everywhere.
//
// The accelerator is chosen with defines, set by `bnngen synth` for the model at hand:
//   BNNGEN_TOP          module name of the generated top (e.g. tiny_top)
//   BNNGEN_IN_W         width of its s_axis_tdata
//   BNNGEN_OUT_W        width of its m_axis_tdata
//   BNNGEN_PIXELS       pixels per frame (height x width)
//   BNNGEN_CLKS_PER_BIT board clock / UART baud rate (default 104: 12 MHz, 115200 baud)
//   BNNGEN_WLOAD        defined when the accelerator keeps weights in SPRAM (`--weights spram`):
//                       the core then has the SPI-flash pins, and bnngen_spi_loader copies
//   BNNGEN_WLOAD_WORDS  16-bit image words from flash byte address
//   BNNGEN_FLASH_OFFSET before the core leaves reset;
//   BNNGEN_WLOAD_DATA_W width of the accelerator's wl_data (low bits of an image word).
// Verilog-2005, clean under `verilator --lint-only -Wall`.

`ifndef BNNGEN_TOP
`define BNNGEN_TOP bnngen_accel
`endif
`ifndef BNNGEN_IN_W
`define BNNGEN_IN_W 8
`endif
`ifndef BNNGEN_OUT_W
`define BNNGEN_OUT_W 8
`endif
`ifndef BNNGEN_PIXELS
`define BNNGEN_PIXELS 16
`endif
`ifndef BNNGEN_CLKS_PER_BIT
`define BNNGEN_CLKS_PER_BIT 104
`endif

module bnngen_board_core (
`ifdef BNNGEN_WLOAD
    output wire flash_sck,
    output wire flash_cs_n,
    output wire flash_mosi,
    input  wire flash_miso,
`endif
    input  wire clk,
    input  wire locked,  // PLL lock (tie 1 without a PLL): the core is in reset until it is set
    input  wire rx,
    output wire tx,
    output reg  error,
    output reg  frame_toggle
);
    localparam IN_W  = `BNNGEN_IN_W;
    localparam OUT_W = `BNNGEN_OUT_W;

    wire             rst;
    wire [IN_W-1:0]  s_tdata;
    wire             s_tvalid;
    wire             s_tready;
    wire             s_tlast;
    wire [OUT_W-1:0] m_tdata;
    wire             m_tvalid;
    wire             m_tready;
    wire             m_tlast;
    wire             frame_done;
    wire             frame_error;
    wire             bridge_error;

`ifdef BNNGEN_WLOAD
    // Everything but the loader stays in reset until the weights are in SPRAM.
    wire        por_rst;
    wire        loaded;
    wire        wl_we;
    wire [15:0] wl_addr;
    wire [15:0] wl_data;
    bnngen_por u_por (.clk(clk), .locked(locked), .rst(por_rst));
    bnngen_spi_loader #(
        .WORDS(`BNNGEN_WLOAD_WORDS), .OFFSET(`BNNGEN_FLASH_OFFSET)
    ) u_loader (
        .clk(clk), .rst(por_rst),
        .spi_sck(flash_sck), .spi_cs_n(flash_cs_n), .spi_mosi(flash_mosi), .spi_miso(flash_miso),
        .wl_we(wl_we), .wl_addr(wl_addr), .wl_data(wl_data), .done(loaded)
    );
    // Registered: `rst` reaches the accelerator's logic as well as its flip-flops' resets,
    // and a gate here put the power-on counter on the UP5K's worst path (fashion-up5k with
    // weights in SPRAM, 5.5 ns of routing to the gate). Reset ends one cycle later.
    reg rst_r = 1'b1;
    always @(posedge clk) rst_r <= por_rst || !loaded;
    assign rst = rst_r;
`else
    bnngen_por u_por (.clk(clk), .locked(locked), .rst(rst));
`endif

    bnngen_uart_bridge #(
        .IN_W(IN_W), .OUT_W(OUT_W), .PIXELS(`BNNGEN_PIXELS), .CLKS_PER_BIT(`BNNGEN_CLKS_PER_BIT)
    ) u_bridge (
        .clk(clk), .rst(rst), .rx(rx), .tx(tx),
        .s_axis_tdata(s_tdata), .s_axis_tvalid(s_tvalid), .s_axis_tready(s_tready),
        .s_axis_tlast(s_tlast),
        .m_axis_tdata(m_tdata), .m_axis_tvalid(m_tvalid), .m_axis_tready(m_tready),
        .error(bridge_error)
    );

    `BNNGEN_TOP u_accel (
        .clk(clk), .rst(rst),
        .s_axis_tdata(s_tdata), .s_axis_tvalid(s_tvalid), .s_axis_tready(s_tready),
        .s_axis_tlast(s_tlast),
        .m_axis_tdata(m_tdata), .m_axis_tvalid(m_tvalid), .m_axis_tready(m_tready),
        .m_axis_tlast(m_tlast),
        .frame_done(frame_done), .frame_error(frame_error)
`ifdef BNNGEN_WLOAD
        , .wl_we(wl_we), .wl_addr(wl_addr), .wl_data(wl_data[`BNNGEN_WLOAD_DATA_W-1:0])
`endif
    );

    // Sticky error: bridge overrun or bad pad bits, a frame-size mismatch, or a result beat
    // without tlast (every result is one single-beat packet).
    always @(posedge clk) begin
        if (rst) begin
            error        <= 1'b0;
            frame_toggle <= 1'b0;
        end else begin
            if (bridge_error || frame_error || (m_tvalid && !m_tlast)) error <= 1'b1;
            if (frame_done) frame_toggle <= !frame_toggle;
        end
    end
endmodule
