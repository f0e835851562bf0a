// bnngen UART bridge: feeds a generated accelerator from a UART and sends its results back,
// so a full accelerator fits a small package (only clock, rx, tx and a status pin).
//
// Protocol (8N1, LSB first on the wire, CLKS_PER_BIT clocks per bit):
//   host -> FPGA: the frame's pixels in raster order; each pixel is IN_B = ceil(IN_W/8)
//                 bytes, least significant byte first (the accelerator's s_axis_tdata).
//                 The bridge raises s_axis_tlast on pixel PIXELS-1 of each frame.
//   FPGA -> host: per frame, OUT_B = ceil(OUT_W/8) bytes of m_axis_tdata, least
//                 significant byte first (upper pad bits are zero).
// `error` is sticky: a whole pixel arrived while the previous one was still waiting for the
// accelerator (the host sent faster than the accelerator drains), or a pad bit of a pixel's
// last byte was not zero.
//
// Verilog-2005, clean under `verilator --lint-only -Wall`.

module bnngen_uart_bridge #(
    parameter IN_W         = 8,
    parameter OUT_W        = 8,
    parameter PIXELS       = 16,
    parameter CLKS_PER_BIT = 104
) (
    input  wire             clk,
    input  wire             rst,
    input  wire             rx,
    output wire             tx,
    output wire [IN_W-1:0]  s_axis_tdata,
    output wire             s_axis_tvalid,
    input  wire             s_axis_tready,
    output wire             s_axis_tlast,
    input  wire [OUT_W-1:0] m_axis_tdata,
    input  wire             m_axis_tvalid,
    output wire             m_axis_tready,
    output reg              error
);
    localparam IN_B  = (IN_W + 7) / 8;
    localparam OUT_B = (OUT_W + 7) / 8;
    localparam IBW   = $clog2(IN_B + 1);
    localparam OBW   = $clog2(OUT_B + 1);
    localparam PW    = $clog2(PIXELS + 1);
    localparam LAST  = IN_W - 8 * (IN_B - 1);  // bits taken from a pixel's last byte

    wire       rx_valid;
    wire [7:0] rx_data;
    bnngen_uart_rx #(.CLKS_PER_BIT(CLKS_PER_BIT)) u_rx (
        .clk(clk), .rst(rst), .rx(rx), .valid(rx_valid), .data(rx_data)
    );

    // ---- pixels in: assemble IN_B bytes, hold one pixel for the accelerator ----
    reg [IBW-1:0]  byte_idx;
    reg [IN_W-1:0] hold;
    reg            hold_valid;
    reg [PW-1:0]   pixel_idx;
    wire           take = hold_valid && s_axis_tready;
    wire           pixel_done = rx_valid && (byte_idx == IN_B[IBW-1:0] - 1'b1);
    wire [IN_W-1:0] pixel;
    wire [8*OUT_B-1:0] result_in;

    // The last byte of a pixel carries LAST bits; its pad bits must be zero.
    wire [LAST-1:0] top_bits = rx_data[LAST-1:0];
    wire            pad_bad;
    generate
        if (LAST == 8) begin : g_no_pad
            assign pad_bad = 1'b0;
        end else begin : g_pad
            assign pad_bad = |rx_data[7:LAST];
        end
        if (IN_B == 1) begin : g_one_byte
            assign pixel = top_bits;
        end else begin : g_bytes
            reg [8*(IN_B-1)-1:0] low;
            integer k;
            always @(posedge clk) begin
                if (rx_valid) begin
                    for (k = 0; k < IN_B - 1; k = k + 1) begin
                        if (byte_idx == k[IBW-1:0]) low[8*k +: 8] <= rx_data;
                    end
                end
            end
            assign pixel = {top_bits, low};
        end
        if (OUT_W == 8 * OUT_B) begin : g_out_full
            assign result_in = m_axis_tdata;
        end else begin : g_out_pad
            assign result_in = {{(8*OUT_B-OUT_W){1'b0}}, m_axis_tdata};
        end
    endgenerate

    always @(posedge clk) begin
        if (rst) begin
            byte_idx   <= {IBW{1'b0}};
            hold       <= {IN_W{1'b0}};
            hold_valid <= 1'b0;
            pixel_idx  <= {PW{1'b0}};
            error      <= 1'b0;
        end else begin
            if (rx_valid) byte_idx <= pixel_done ? {IBW{1'b0}} : byte_idx + 1'b1;
            if (take) begin
                hold_valid <= 1'b0;
                pixel_idx  <= (pixel_idx == PIXELS[PW-1:0] - 1'b1) ? {PW{1'b0}} : pixel_idx + 1'b1;
            end
            if (pixel_done && pad_bad) error <= 1'b1;
            if (pixel_done) begin
                if (hold_valid && !take) begin
                    error <= 1'b1;
                end else begin
                    hold       <= pixel;
                    hold_valid <= 1'b1;
                end
            end
        end
    end

    assign s_axis_tdata  = hold;
    assign s_axis_tvalid = hold_valid;
    assign s_axis_tlast  = pixel_idx == PIXELS[PW-1:0] - 1'b1;

    // ---- results out: latch one result, send OUT_B bytes ----
    reg [8*OUT_B-1:0] result;
    reg               sending;
    reg [OBW-1:0]     out_idx;
    reg               start;
    wire              tx_busy;
    assign m_axis_tready = !sending;

    always @(posedge clk) begin
        start <= 1'b0;
        if (rst) begin
            result  <= {8*OUT_B{1'b0}};
            sending <= 1'b0;
            out_idx <= {OBW{1'b0}};
        end else if (!sending) begin
            if (m_axis_tvalid) begin
                result  <= result_in;
                sending <= 1'b1;
                out_idx <= {OBW{1'b0}};
            end
        end else if (start) begin
            // u_tx latches result[7:0] on this edge; move the next byte down.
            result <= result >> 8;
        end else if (!tx_busy) begin
            if (out_idx == OUT_B[OBW-1:0]) begin
                sending <= 1'b0;
            end else begin
                start   <= 1'b1;
                out_idx <= out_idx + 1'b1;
            end
        end
    end

    wire [7:0] out_byte = result[7:0];
    bnngen_uart_tx #(.CLKS_PER_BIT(CLKS_PER_BIT)) u_tx (
        .clk(clk), .rst(rst), .start(start), .data(out_byte), .busy(tx_busy), .tx(tx)
    );
endmodule
