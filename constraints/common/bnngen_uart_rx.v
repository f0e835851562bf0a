// bnngen UART receiver: 8N1, LSB first, CLKS_PER_BIT clocks per bit; `valid` pulses for one
// cycle with each byte whose stop bit is high. `zero` is `count == 0`, kept in a register
// beside `count` so that the bit timer's compare is not in front of every enable (it was the
// worst path of a 77%-full UP5K at 48 MHz). Verilog-2005.

module bnngen_uart_rx #(
    parameter CLKS_PER_BIT = 104
) (
    input  wire       clk,
    input  wire       rst,
    input  wire       rx,
    output reg        valid,
    output reg  [7:0] data
);
    localparam CW = $clog2(CLKS_PER_BIT + 1);
    reg          rx_meta;
    reg          rx_sync;
    reg          busy;
    reg [CW-1:0] count;
    reg          zero;
    reg [3:0]    bit_idx;

    always @(posedge clk) begin
        rx_meta <= rx;
        rx_sync <= rx_meta;
        valid   <= 1'b0;
        if (rst) begin
            rx_meta <= 1'b1;
            rx_sync <= 1'b1;
            busy    <= 1'b0;
            count   <= {CW{1'b0}};
            zero    <= 1'b1;
            bit_idx <= 4'd0;
            data    <= 8'd0;
        end else if (!busy) begin
            if (!rx_sync) begin
                // Start bit seen: sample it again half a bit later.
                busy    <= 1'b1;
                count   <= CLKS_PER_BIT[CW-1:0] >> 1;
                zero    <= CLKS_PER_BIT < 2;
                bit_idx <= 4'd0;
            end
        end else if (!zero) begin
            count <= count - 1'b1;
            zero  <= count == {{(CW-1){1'b0}}, 1'b1};
        end else begin
            count <= CLKS_PER_BIT[CW-1:0] - 1'b1;
            zero  <= CLKS_PER_BIT == 1;
            if (bit_idx == 4'd0) begin
                // Middle of the start bit: a glitch if the line is high again.
                if (rx_sync) busy <= 1'b0;
                bit_idx <= 4'd1;
            end else if (bit_idx != 4'd9) begin
                data    <= {rx_sync, data[7:1]};
                bit_idx <= bit_idx + 4'd1;
            end else begin
                // Middle of the stop bit.
                busy  <= 1'b0;
                valid <= rx_sync;
            end
        end
    end
endmodule
