// bnngen UART transmitter: 8N1, LSB first, CLKS_PER_BIT clocks per bit; `start` is taken when
// `busy` is low, and `busy` stays high through the stop bit. `zero` is `count == 0` in a
// register of its own, as in the receiver. Verilog-2005.

module bnngen_uart_tx #(
    parameter CLKS_PER_BIT = 104
) (
    input  wire       clk,
    input  wire       rst,
    input  wire       start,
    input  wire [7:0] data,
    output wire       busy,
    output reg        tx
);
    localparam CW = $clog2(CLKS_PER_BIT + 1);
    reg [9:0]    shift;
    reg [3:0]    left;
    reg [CW-1:0] count;
    reg          zero;

    assign busy = left != 4'd0;

    always @(posedge clk) begin
        if (rst) begin
            tx    <= 1'b1;
            shift <= 10'h3ff;
            left  <= 4'd0;
            count <= {CW{1'b0}};
            zero  <= 1'b1;
        end else if (!busy) begin
            if (start) begin
                shift <= {1'b1, data, 1'b0};
                left  <= 4'd11;
                count <= {CW{1'b0}};
                zero  <= 1'b1;
            end
        end else if (!zero) begin
            count <= count - 1'b1;
            zero  <= count == {{(CW-1){1'b0}}, 1'b1};
        end else begin
            tx    <= shift[0];
            shift <= {1'b1, shift[9:1]};
            left  <= left - 4'd1;
            count <= CLKS_PER_BIT[CW-1:0] - 1'b1;
            zero  <= CLKS_PER_BIT == 1;
        end
    end
endmodule
