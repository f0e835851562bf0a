// bnngen co-simulation testbench for Icarus Verilog (plain Verilog-2005, independent of the
// Verilator C++ harness): drives the generated top from memory images that Rust writes and
// prints every result beat in the harness's result format, so the same Rust code compares it
// with the reference model as integers.
//
// Defines (iverilog -D): DUT (the top module), IN_W, OUT_W (port widths), PIXELS (per frame),
// FRAMES, PLEN (length of the ready pattern), TIMEOUT (cycles).
// Files in the working directory: stim_pix.hex (one pixel word per line), stim_gap.hex (idle
// cycles before each pixel, 8 bits), stim_rdy.hex (m_axis_tready pattern, cycled).
// Output on stdout: "R cycle w0 w1 ..." per result (32-bit words, LSW first), then
// "END cycle" or "TIMEOUT cycle". An X or Z on an output is "XZ cycle what" and ends the run.
`timescale 1ns / 1ps
module tb;
    localparam OUT_WORDS = (`OUT_W + 31) / 32;
    localparam TOTAL = `PIXELS * `FRAMES;
    reg clk = 1'b0;
    reg rst = 1'b1;
    reg [`IN_W-1:0] s_tdata = 0;
    reg s_tvalid = 1'b0;
    reg s_tlast = 1'b0;
    wire s_tready;
    wire [`OUT_W-1:0] m_tdata;
    wire m_tvalid;
    reg m_tready = 1'b0;
    wire m_tlast;
    wire frame_done;
    wire frame_error;

    `DUT dut (
        .clk(clk),
        .rst(rst),
        .s_axis_tdata(s_tdata),
        .s_axis_tvalid(s_tvalid),
        .s_axis_tready(s_tready),
        .s_axis_tlast(s_tlast),
        .m_axis_tdata(m_tdata),
        .m_axis_tvalid(m_tvalid),
        .m_axis_tready(m_tready),
        .m_axis_tlast(m_tlast),
        .frame_done(frame_done),
        .frame_error(frame_error)
    );

    reg [`IN_W-1:0] pix [0:TOTAL-1];
    reg [7:0] gaps [0:TOTAL-1];
    reg rdy [0:`PLEN-1];
    wire [32*OUT_WORDS-1:0] padded = {{(32*OUT_WORDS-`OUT_W){1'b0}}, m_tdata};

    integer next;
    integer gap;
    integer results;
    integer cycle;
    integer i;

    always #5 clk = ~clk;

    // An X or Z on a control output, or on the data of an offered result, is a failure.
    task check_xz;
        begin
            if ((^{s_tready, m_tvalid, frame_done, frame_error}) === 1'bx) begin
                $display("XZ %0d control %b%b%b%b", cycle, s_tready, m_tvalid, frame_done,
                         frame_error);
                $finish;
            end
            if (m_tvalid && (^m_tdata) === 1'bx) begin
                $display("XZ %0d m_axis_tdata %b", cycle, m_tdata);
                $finish;
            end
        end
    endtask

    initial begin
        $readmemh("stim_pix.hex", pix);
        $readmemh("stim_gap.hex", gaps);
        $readmemh("stim_rdy.hex", rdy);
        repeat (4) @(posedge clk);
        #1 rst = 1'b0;
        next = 0;
        gap = gaps[0];
        results = 0;
        cycle = 0;
        while (results < `FRAMES && cycle < `TIMEOUT) begin
            // Drive between edges, sample just before the rising edge.
            s_tvalid = (next < TOTAL) && (gap == 0);
            s_tdata = (next < TOTAL) ? pix[next] : 0;
            s_tlast = s_tvalid && ((next % `PIXELS) == `PIXELS - 1);
            m_tready = rdy[cycle % `PLEN];
            @(negedge clk);
            check_xz;
            if (m_tvalid && m_tready) begin
                $write("R %0d", cycle);
                for (i = 0; i < OUT_WORDS; i = i + 1) $write(" %h", padded[32*i +: 32]);
                $write("\n");
                results = results + 1;
            end
            if (s_tvalid && s_tready) begin
                next = next + 1;
                gap = (next < TOTAL) ? gaps[next] : 0;
            end else if (gap > 0) begin
                gap = gap - 1;
            end
            @(posedge clk);
            #1 cycle = cycle + 1;
        end
        if (results < `FRAMES) $display("TIMEOUT %0d", cycle);
        else $display("END %0d", cycle);
        $finish;
    end
endmodule
