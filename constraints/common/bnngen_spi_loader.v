// bnngen SPI-flash weight loader: after reset, copies WORDS 16-bit words of the weight image
// from SPI flash byte address OFFSET into the accelerator's SPRAM weight stores over its load
// bus (wl_we / wl_addr / wl_data, addresses 0 .. WORDS-1), then raises `done` and keeps it.
// The board core holds the accelerator in reset until `done`, which rises four cycles after
// the last word (the stores register the bus before writing).
//
// SPI mode 0, SCK = clk / 2. It first sends 0xAB (release from deep power-down: the flash
// may have been put to sleep after configuration), waits GAP clocks with CS high (at least
// tRES1, 3 us on common parts), then reads with command 0x03 and a 24-bit address. The image
// is little-endian: the first byte is bits 7:0 of word 0. `bnngen weights` writes it, and
// `iceprog -o OFFSET` puts it into the flash after the bitstream. Verilog-2005.

module bnngen_spi_loader #(
    parameter WORDS  = 1,
    parameter OFFSET = 24'h100000,
    parameter GAP    = 1023
) (
    input  wire        clk,
    input  wire        rst,
    output reg         spi_sck,
    output reg         spi_cs_n,
    output wire        spi_mosi,
    input  wire        spi_miso,
    output reg         wl_we,
    output reg  [15:0] wl_addr,
    output reg  [15:0] wl_data,
    output reg         done
);
    localparam [1:0] S_WAKE = 2'd0, S_GAP = 2'd1, S_READ = 2'd2, S_DONE = 2'd3;
    localparam [16:0] N_WORDS = WORDS;
    localparam [23:0] ADDR = OFFSET;
    localparam [15:0] GAP_N = GAP;
    reg [1:0]  state;
    reg [31:0] sh_out;  // bits to send, MSB first
    reg [14:0] sh_in;   // bits received of the current word
    reg [4:0]  nbit;    // bits left in the current unit, minus one
    reg [15:0] gap;
    reg [16:0] left;    // words still to read
    reg        hdr;     // still sending the read command and address
    assign spi_mosi = sh_out[31];

    always @(posedge clk) begin
        wl_we <= 1'b0;
        if (rst) begin
            state    <= S_WAKE;
            spi_cs_n <= 1'b1;
            spi_sck  <= 1'b0;
            sh_out   <= {8'hAB, 24'd0};
            sh_in    <= 15'd0;
            nbit     <= 5'd7;
            gap      <= 16'd0;
            left     <= N_WORDS;
            hdr      <= 1'b1;
            wl_addr  <= 16'hffff;
            wl_data  <= 16'd0;
            done     <= 1'b0;
        end else begin
            case (state)
                S_WAKE, S_READ: begin
                    if (spi_cs_n) begin
                        spi_cs_n <= 1'b0;
                    end else if (!spi_sck) begin
                        spi_sck <= 1'b1;
                    end else begin
                        // Falling edge: the flash puts out its next bit, which was sampled here.
                        spi_sck <= 1'b0;
                        sh_out  <= {sh_out[30:0], 1'b0};
                        sh_in   <= {sh_in[13:0], spi_miso};
                        nbit    <= nbit - 5'd1;
                        if (nbit == 5'd0) begin
                            if (state == S_WAKE) begin
                                state    <= S_GAP;
                                spi_cs_n <= 1'b1;
                            end else if (hdr) begin
                                hdr  <= 1'b0;
                                nbit <= 5'd15;
                            end else begin
                                // Bytes b0 (first) and b1 arrive MSB first: word = {b1, b0}.
                                wl_we   <= 1'b1;
                                wl_addr <= wl_addr + 16'd1;
                                wl_data <= {sh_in[6:0], spi_miso, sh_in[14:7]};
                                left    <= left - 17'd1;
                                nbit    <= 5'd15;
                                if (left == 17'd1) begin
                                    state    <= S_DONE;
                                    spi_cs_n <= 1'b1;
                                end
                            end
                        end
                    end
                end
                S_GAP: begin
                    gap <= gap + 16'd1;
                    if (gap == GAP_N) begin
                        gap    <= 16'd0;
                        state  <= S_READ;
                        sh_out <= {8'h03, ADDR};
                        nbit   <= 5'd31;
                    end
                end
                default: begin
                    // A few idle cycles: the stores write one cycle after the bus word.
                    gap <= gap + 16'd1;
                    if (gap == 16'd3) done <= 1'b1;
                end
            endcase
        end
    end
endmodule
