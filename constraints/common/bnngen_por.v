// bnngen power-on reset: high for the first 16 cycles after configuration and after `locked`
// rises (the PLL's LOCK, or 1 on boards without a PLL). LOCK is asynchronous to the clock it
// qualifies, so it passes through two flip-flops first; any drop of it restarts the count.
module bnngen_por (
    input  wire clk,
    input  wire locked,
    output wire rst
);
    reg [1:0] lock_sync = 2'b00;
    reg [4:0] count = 5'd0;
    always @(posedge clk) begin
        lock_sync <= {lock_sync[0], locked};
        if (!lock_sync[1]) count <= 5'd0;
        else if (!count[4]) count <= count + 5'd1;
    end
    assign rst = !count[4];
endmodule
