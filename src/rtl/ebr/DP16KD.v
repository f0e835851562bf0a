// Behavioural simulation model of the Lattice ECP5 DP16KD block RAM, shipped by bnngen with
// RTL that instantiates the primitive (ECP5 targets), so that RTL co-simulation runs the very
// RTL that is synthesized. Synthesis never reads this file: Yosys maps the instance onto the
// real cell. It models the subset bnngen instantiates, and stops the simulation on anything
// else:
//   - port A writes, port B reads, both DATA_WIDTH_A = DATA_WIDTH_B = 1, 2, 4, 9, 18 or 36;
//   - the 1024 rows of 18 bits start from INITVAL_00..3F, row 16*k+i of INITVAL_k in bits
//     [20*i +: 18]; a 9-bit word is half a row (low half first), narrower words sit in the low
//     8 bits of a half; width 36 is two rows (DIA/DOA the low one, DIB/DOB the high one);
//   - ADx[13:0] addresses in bit units (width 18: ADx[13:4], ADx[1:0] byte enables of a write;
//     width 36: ADx[13:5], ADA[3:0] byte enables);
//   - the read latch loads at CLKB when CEB is high; REGMODE_B "OUTREG" adds the output
//     register, loaded when OCEB is high; RSTB clears both at the clock edge;
//   - a read at the word port A writes in the same cycle returns the word inverted: the cell
//     gives no defined value then, and bnngen's memories promise never to do it.
`default_nettype none

module DP16KD (
    /* verilator lint_off UNUSEDSIGNAL */
    input wire DIA17, DIA16, DIA15, DIA14, DIA13, DIA12, DIA11, DIA10, DIA9,
    input wire DIA8, DIA7, DIA6, DIA5, DIA4, DIA3, DIA2, DIA1, DIA0,
    input wire ADA13, ADA12, ADA11, ADA10, ADA9, ADA8, ADA7, ADA6, ADA5, ADA4,
    input wire ADA3, ADA2, ADA1, ADA0,
    input wire CEA, OCEA, CLKA, WEA, RSTA,
    input wire CSA2, CSA1, CSA0,
    output wire DOA17, DOA16, DOA15, DOA14, DOA13, DOA12, DOA11, DOA10, DOA9,
    output wire DOA8, DOA7, DOA6, DOA5, DOA4, DOA3, DOA2, DOA1, DOA0,
    input wire DIB17, DIB16, DIB15, DIB14, DIB13, DIB12, DIB11, DIB10, DIB9,
    input wire DIB8, DIB7, DIB6, DIB5, DIB4, DIB3, DIB2, DIB1, DIB0,
    input wire ADB13, ADB12, ADB11, ADB10, ADB9, ADB8, ADB7, ADB6, ADB5, ADB4,
    input wire ADB3, ADB2, ADB1, ADB0,
    input wire CEB, OCEB, CLKB, WEB, RSTB,
    input wire CSB2, CSB1, CSB0,
    /* verilator lint_on UNUSEDSIGNAL */
    output wire DOB17, DOB16, DOB15, DOB14, DOB13, DOB12, DOB11, DOB10, DOB9,
    output wire DOB8, DOB7, DOB6, DOB5, DOB4, DOB3, DOB2, DOB1, DOB0
);
    /* verilator lint_off UNUSEDPARAM */
    parameter integer DATA_WIDTH_A = 18;
    parameter integer DATA_WIDTH_B = 18;
    parameter REGMODE_A = "NOREG";
    parameter REGMODE_B = "NOREG";
    parameter RESETMODE = "SYNC";
    parameter ASYNC_RESET_RELEASE = "SYNC";
    parameter CSDECODE_A = "0b000";
    parameter CSDECODE_B = "0b000";
    parameter WRITEMODE_A = "NORMAL";
    parameter WRITEMODE_B = "NORMAL";
    parameter CLKAMUX = "CLKA";
    parameter CLKBMUX = "CLKB";
    parameter GSR = "ENABLED";
    /* verilator lint_on UNUSEDPARAM */
    parameter [319:0] INITVAL_00 = 320'h0, INITVAL_01 = 320'h0, INITVAL_02 = 320'h0;
    parameter [319:0] INITVAL_03 = 320'h0, INITVAL_04 = 320'h0, INITVAL_05 = 320'h0;
    parameter [319:0] INITVAL_06 = 320'h0, INITVAL_07 = 320'h0, INITVAL_08 = 320'h0;
    parameter [319:0] INITVAL_09 = 320'h0, INITVAL_0A = 320'h0, INITVAL_0B = 320'h0;
    parameter [319:0] INITVAL_0C = 320'h0, INITVAL_0D = 320'h0, INITVAL_0E = 320'h0;
    parameter [319:0] INITVAL_0F = 320'h0, INITVAL_10 = 320'h0, INITVAL_11 = 320'h0;
    parameter [319:0] INITVAL_12 = 320'h0, INITVAL_13 = 320'h0, INITVAL_14 = 320'h0;
    parameter [319:0] INITVAL_15 = 320'h0, INITVAL_16 = 320'h0, INITVAL_17 = 320'h0;
    parameter [319:0] INITVAL_18 = 320'h0, INITVAL_19 = 320'h0, INITVAL_1A = 320'h0;
    parameter [319:0] INITVAL_1B = 320'h0, INITVAL_1C = 320'h0, INITVAL_1D = 320'h0;
    parameter [319:0] INITVAL_1E = 320'h0, INITVAL_1F = 320'h0, INITVAL_20 = 320'h0;
    parameter [319:0] INITVAL_21 = 320'h0, INITVAL_22 = 320'h0, INITVAL_23 = 320'h0;
    parameter [319:0] INITVAL_24 = 320'h0, INITVAL_25 = 320'h0, INITVAL_26 = 320'h0;
    parameter [319:0] INITVAL_27 = 320'h0, INITVAL_28 = 320'h0, INITVAL_29 = 320'h0;
    parameter [319:0] INITVAL_2A = 320'h0, INITVAL_2B = 320'h0, INITVAL_2C = 320'h0;
    parameter [319:0] INITVAL_2D = 320'h0, INITVAL_2E = 320'h0, INITVAL_2F = 320'h0;
    parameter [319:0] INITVAL_30 = 320'h0, INITVAL_31 = 320'h0, INITVAL_32 = 320'h0;
    parameter [319:0] INITVAL_33 = 320'h0, INITVAL_34 = 320'h0, INITVAL_35 = 320'h0;
    parameter [319:0] INITVAL_36 = 320'h0, INITVAL_37 = 320'h0, INITVAL_38 = 320'h0;
    parameter [319:0] INITVAL_39 = 320'h0, INITVAL_3A = 320'h0, INITVAL_3B = 320'h0;
    parameter [319:0] INITVAL_3C = 320'h0, INITVAL_3D = 320'h0, INITVAL_3E = 320'h0;
    parameter [319:0] INITVAL_3F = 320'h0;

    localparam [20479:0] INIT = {
        INITVAL_3F, INITVAL_3E, INITVAL_3D, INITVAL_3C, INITVAL_3B, INITVAL_3A, INITVAL_39,
        INITVAL_38, INITVAL_37, INITVAL_36, INITVAL_35, INITVAL_34, INITVAL_33, INITVAL_32,
        INITVAL_31, INITVAL_30, INITVAL_2F, INITVAL_2E, INITVAL_2D, INITVAL_2C, INITVAL_2B,
        INITVAL_2A, INITVAL_29, INITVAL_28, INITVAL_27, INITVAL_26, INITVAL_25, INITVAL_24,
        INITVAL_23, INITVAL_22, INITVAL_21, INITVAL_20, INITVAL_1F, INITVAL_1E, INITVAL_1D,
        INITVAL_1C, INITVAL_1B, INITVAL_1A, INITVAL_19, INITVAL_18, INITVAL_17, INITVAL_16,
        INITVAL_15, INITVAL_14, INITVAL_13, INITVAL_12, INITVAL_11, INITVAL_10, INITVAL_0F,
        INITVAL_0E, INITVAL_0D, INITVAL_0C, INITVAL_0B, INITVAL_0A, INITVAL_09, INITVAL_08,
        INITVAL_07, INITVAL_06, INITVAL_05, INITVAL_04, INITVAL_03, INITVAL_02, INITVAL_01,
        INITVAL_00};

    // Word geometry of the configured width: the word address sits in AD[13:LSB]; a word
    // narrower than 9 bits is one of PER words in each 9-bit half of a row.
    localparam integer W = DATA_WIDTH_B;
    localparam integer LSB = W == 36 ? 5 : W == 18 ? 4 : W == 9 ? 3 : W == 4 ? 2 : W == 2 ? 1 : 0;
    localparam integer PER = W >= 9 ? 1 : 8 / W;

    reg [17:0] mem [0:1023];
    integer r;
    initial begin
        if (DATA_WIDTH_A != DATA_WIDTH_B || LSB == 0 && W != 1 || WRITEMODE_A != "NORMAL"
            || RESETMODE != "SYNC" || CSDECODE_A != "0b000" || CSDECODE_B != "0b000") begin
            $display("DP16KD model: a configuration bnngen does not generate");
            $finish;
        end
        for (r = 0; r < 1024; r = r + 1)
            mem[r] = INIT[20 * r +: 18];
    end

    wire [13:0] ada = {ADA13, ADA12, ADA11, ADA10, ADA9, ADA8, ADA7, ADA6, ADA5, ADA4,
                       ADA3, ADA2, ADA1, ADA0};
    wire [13:0] adb = {ADB13, ADB12, ADB11, ADB10, ADB9, ADB8, ADB7, ADB6, ADB5, ADB4,
                       ADB3, ADB2, ADB1, ADB0};
    wire [35:0] din = {DIB17, DIB16, DIB15, DIB14, DIB13, DIB12, DIB11, DIB10, DIB9,
                       DIB8, DIB7, DIB6, DIB5, DIB4, DIB3, DIB2, DIB1, DIB0,
                       DIA17, DIA16, DIA15, DIA14, DIA13, DIA12, DIA11, DIA10, DIA9,
                       DIA8, DIA7, DIA6, DIA5, DIA4, DIA3, DIA2, DIA1, DIA0};

    // The first row and the bit offset in it of the word at bit address `ad`. Which address
    // bits matter depends on the width, so some are unused at any one width.
    /* verilator lint_off UNUSEDSIGNAL */
    function [9:0] row_of;
        input [13:0] ad;
        row_of = W == 36 ? {ad[13:5], 1'b0} : ad[13:4];
    endfunction
    function [4:0] lane_of;
        input [13:0] ad;
        integer a, t;
        begin
            a = {18'd0, ad} >> LSB;
            t = W >= 18 ? 0 : 9 * ((a / PER) % 2) + W * (a % PER);
            lane_of = t[4:0];
        end
    endfunction
    /* verilator lint_on UNUSEDSIGNAL */
    function [35:0] ones;
        input integer n;
        ones = n >= 36 ? {36{1'b1}} : ((36'd1 << n) - 36'd1);
    endfunction

    // Write side (port A): the word's bits under the byte enables, at the clock edge.
    wire [17:0] be18 = {{9{ada[1]}}, {9{ada[0]}}};
    wire [35:0] wmask = W == 36 ? {{9{ada[3]}}, {9{ada[2]}}, {9{ada[1]}}, {9{ada[0]}}}
        : W == 18 ? {18'd0, be18} : (ones(W) << lane_of(ada));
    wire [35:0] wdata = W >= 18 ? din : (din << lane_of(ada));
    wire [9:0] wrow = row_of(ada);
    wire wr = CEA && WEA;
    always @(posedge CLKA)
        if (wr) begin
            mem[wrow] <= (mem[wrow] & ~wmask[17:0]) | (wdata[17:0] & wmask[17:0]);
            if (W == 36)
                mem[wrow + 10'd1] <= (mem[wrow + 10'd1] & ~wmask[35:18])
                    | (wdata[35:18] & wmask[35:18]);
        end

    // Read side (port B): the word at the address, inverted on a collision with the write.
    wire [9:0] rrow = row_of(adb);
    wire [35:0] rows = {W == 36 ? mem[rrow + 10'd1] : 18'd0, mem[rrow]};
    wire [35:0] word = W >= 18 ? rows : ((rows >> lane_of(adb)) & ones(W));
    wire collide = wr && ada[13:LSB] == adb[13:LSB];
    reg [35:0] lat, outreg;
    initial begin
        lat = 36'd0;
        outreg = 36'd0;
    end
    always @(posedge CLKB)
        if (RSTB) begin
            lat <= 36'd0;
            outreg <= 36'd0;
        end else begin
            if (CEB) lat <= collide ? ~word : word;
            if (OCEB) outreg <= lat;
        end
    wire [35:0] q = REGMODE_B == "OUTREG" ? outreg : lat;
    assign {DOB17, DOB16, DOB15, DOB14, DOB13, DOB12, DOB11, DOB10, DOB9,
            DOB8, DOB7, DOB6, DOB5, DOB4, DOB3, DOB2, DOB1, DOB0} = W == 36 ? q[35:18] : q[17:0];
    assign {DOA17, DOA16, DOA15, DOA14, DOA13, DOA12, DOA11, DOA10, DOA9,
            DOA8, DOA7, DOA6, DOA5, DOA4, DOA3, DOA2, DOA1, DOA0} = W == 36 ? q[17:0] : 18'd0;
endmodule

`default_nettype wire
