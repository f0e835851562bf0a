// bnngen power-on reset: high for the first 16 cycles after configuration.
module bnngen_por (
    input  wire clk,
    output wire rst
);
    reg [4:0] count = 5'd0;
    always @(posedge clk) begin
        if (!count[4]) count <= count + 5'd1;
    end
    assign rst = !count[4];
endmodule
