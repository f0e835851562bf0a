// Behavioural simulation model of the Lattice ECP5 DP16KD block RAM, bnngen's one model of the
// cell for both of its uses:
//   - RTL co-simulation: written beside RTL that instantiates the cell (ECP5 targets), so that
//     lint and simulation run the very RTL that is synthesized (Yosys never reads this file
//     there: it maps the instance onto the real cell);
//   - gate-level runs: Yosys declares the cell with ports and parameters only, so a netlist
//     that uses it would read zeros; the model is swapped in for that declaration.
// It follows the semantics Yosys assumes when it maps memories onto the cell
// (techlibs/ecp5/brams.txt and brams_map.v):
//   - 1024 rows of 18 bits, filled from INITVAL_00..3F: each 320-bit INITVAL holds 16 rows,
//     row i of it in bits [20*i +: 18];
//   - an 18-bit row is two 9-bit words (low first); a 9-bit word holds two 4-bit words in its
//     low 8 bits (bit 8 is the extra bit), a 4-bit word two 2-bit words, a 2-bit word two bits.
//     ADx[13:0] addresses in 1-bit units, so a port of width 18 uses ADx[13:4], 9 ADx[13:3],
//     4 ADx[13:2], 2 ADx[13:1], 1 ADx[13:0];
//   - width 18: ADx1/ADx0 are the byte enables of the high/low 9-bit word; width 36 (port A
//     writes, port B reads, DIA low half, DIB high half, DOA low, DOB high): ADx[13:5] is the
//     address of two rows, ADA3..ADA0 the byte enables of their four 9-bit words;
//   - synchronous read into an output latch on the port's clock when CEx is high and the chip
//     select matches CSDECODE_x; WRITEMODE NORMAL keeps the output during a write on the same
//     port, WRITETHROUGH shows the new data, READBEFOREWRITE the old;
//   - a read of bits that the other port writes at the same clock edge returns them inverted:
//     the cell gives no defined value then, Yosys never relies on one, and bnngen's memories
//     promise never to do it, so a simulation that passes shows no such read happened;
//   - RSTx clears the output: at the clock edge whatever CEx is (RESETMODE "SYNC"), or at once
//     (RESETMODE "ASYNC");
//   - REGMODE "OUTREG" adds an output register, loaded on the clock edge when OCEx is high.
// A width other than 1, 2, 4, 9, 18 or 36, or an inverted clock, stops the simulation.
// Verilog-2005, lint-clean under `verilator -Wall`; not synthesizable as the cell (use the
// primitive itself for that).
`default_nettype none

module DP16KD (
    // Port A, then port B: one line per bus, bit 0 last.
    input wire DIA17, DIA16, DIA15, DIA14, DIA13, DIA12, DIA11, DIA10, DIA9, DIA8, DIA7, DIA6, DIA5, DIA4, DIA3, DIA2, DIA1, DIA0,
    input wire ADA13, ADA12, ADA11, ADA10, ADA9, ADA8, ADA7, ADA6, ADA5, ADA4, ADA3, ADA2, ADA1, ADA0,
    input wire CEA, OCEA, CLKA, WEA, RSTA,
    input wire CSA2, CSA1, CSA0,
    output wire DOA17, DOA16, DOA15, DOA14, DOA13, DOA12, DOA11, DOA10, DOA9, DOA8, DOA7, DOA6, DOA5, DOA4, DOA3, DOA2, DOA1, DOA0,
    input wire DIB17, DIB16, DIB15, DIB14, DIB13, DIB12, DIB11, DIB10, DIB9, DIB8, DIB7, DIB6, DIB5, DIB4, DIB3, DIB2, DIB1, DIB0,
    input wire ADB13, ADB12, ADB11, ADB10, ADB9, ADB8, ADB7, ADB6, ADB5, ADB4, ADB3, ADB2, ADB1, ADB0,
    input wire CEB, OCEB, CLKB, WEB, RSTB,
    input wire CSB2, CSB1, CSB0,
    output wire DOB17, DOB16, DOB15, DOB14, DOB13, DOB12, DOB11, DOB10, DOB9, DOB8, DOB7, DOB6, DOB5, DOB4, DOB3, DOB2, DOB1, DOB0
);
    parameter DATA_WIDTH_A = 18;
    parameter DATA_WIDTH_B = 18;
    parameter REGMODE_A = "NOREG";
    parameter REGMODE_B = "NOREG";
    parameter RESETMODE = "SYNC";
    parameter CSDECODE_A = "0b000";
    parameter CSDECODE_B = "0b000";
    parameter WRITEMODE_A = "NORMAL";
    parameter WRITEMODE_B = "NORMAL";
    parameter CLKAMUX = "CLKA";
    parameter CLKBMUX = "CLKB";
    /* verilator lint_off UNUSEDPARAM */
    parameter ASYNC_RESET_RELEASE = "SYNC";
    parameter GSR = "ENABLED";
    /* verilator lint_on UNUSEDPARAM */
    parameter INITVAL_00 = 320'h0;
    parameter INITVAL_01 = 320'h0;
    parameter INITVAL_02 = 320'h0;
    parameter INITVAL_03 = 320'h0;
    parameter INITVAL_04 = 320'h0;
    parameter INITVAL_05 = 320'h0;
    parameter INITVAL_06 = 320'h0;
    parameter INITVAL_07 = 320'h0;
    parameter INITVAL_08 = 320'h0;
    parameter INITVAL_09 = 320'h0;
    parameter INITVAL_0A = 320'h0;
    parameter INITVAL_0B = 320'h0;
    parameter INITVAL_0C = 320'h0;
    parameter INITVAL_0D = 320'h0;
    parameter INITVAL_0E = 320'h0;
    parameter INITVAL_0F = 320'h0;
    parameter INITVAL_10 = 320'h0;
    parameter INITVAL_11 = 320'h0;
    parameter INITVAL_12 = 320'h0;
    parameter INITVAL_13 = 320'h0;
    parameter INITVAL_14 = 320'h0;
    parameter INITVAL_15 = 320'h0;
    parameter INITVAL_16 = 320'h0;
    parameter INITVAL_17 = 320'h0;
    parameter INITVAL_18 = 320'h0;
    parameter INITVAL_19 = 320'h0;
    parameter INITVAL_1A = 320'h0;
    parameter INITVAL_1B = 320'h0;
    parameter INITVAL_1C = 320'h0;
    parameter INITVAL_1D = 320'h0;
    parameter INITVAL_1E = 320'h0;
    parameter INITVAL_1F = 320'h0;
    parameter INITVAL_20 = 320'h0;
    parameter INITVAL_21 = 320'h0;
    parameter INITVAL_22 = 320'h0;
    parameter INITVAL_23 = 320'h0;
    parameter INITVAL_24 = 320'h0;
    parameter INITVAL_25 = 320'h0;
    parameter INITVAL_26 = 320'h0;
    parameter INITVAL_27 = 320'h0;
    parameter INITVAL_28 = 320'h0;
    parameter INITVAL_29 = 320'h0;
    parameter INITVAL_2A = 320'h0;
    parameter INITVAL_2B = 320'h0;
    parameter INITVAL_2C = 320'h0;
    parameter INITVAL_2D = 320'h0;
    parameter INITVAL_2E = 320'h0;
    parameter INITVAL_2F = 320'h0;
    parameter INITVAL_30 = 320'h0;
    parameter INITVAL_31 = 320'h0;
    parameter INITVAL_32 = 320'h0;
    parameter INITVAL_33 = 320'h0;
    parameter INITVAL_34 = 320'h0;
    parameter INITVAL_35 = 320'h0;
    parameter INITVAL_36 = 320'h0;
    parameter INITVAL_37 = 320'h0;
    parameter INITVAL_38 = 320'h0;
    parameter INITVAL_39 = 320'h0;
    parameter INITVAL_3A = 320'h0;
    parameter INITVAL_3B = 320'h0;
    parameter INITVAL_3C = 320'h0;
    parameter INITVAL_3D = 320'h0;
    parameter INITVAL_3E = 320'h0;
    parameter INITVAL_3F = 320'h0;

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

    // The string parameters as flags, decoded once. (A string compared with one of another
    // length warns about widths, and the length of a parameter is the instance's choice.)
    /* verilator lint_off WIDTH */
    localparam OUTREG_A = REGMODE_A == "OUTREG";
    localparam OUTREG_B = REGMODE_B == "OUTREG";
    localparam ASYNC_RESET = RESETMODE == "ASYNC";
    localparam NORMAL_A = WRITEMODE_A == "NORMAL";
    localparam NORMAL_B = WRITEMODE_B == "NORMAL";
    localparam THROUGH_A = WRITEMODE_A == "WRITETHROUGH";
    localparam THROUGH_B = WRITEMODE_B == "WRITETHROUGH";
    localparam INVERTED_CLOCK = CLKAMUX == "INV" || CLKBMUX == "INV";
    /* verilator lint_on WIDTH */

    // Both ports write, each at its own clock.
    /* verilator lint_off MULTIDRIVEN */
    reg [17:0] mem [0:1023];
    /* verilator lint_on MULTIDRIVEN */
    integer r;
    initial
        for (r = 0; r < 1024; r = r + 1)
            mem[r] = INIT[20 * r +: 18];

    // Only some bits of the arguments of the next two functions matter.
    /* verilator lint_off UNUSEDSIGNAL */
    // The chip-select pattern a CSDECODE string stands for ("0b000" .. "0b111").
    function [2:0] csdecode;
        input [39:0] s;
        csdecode = {s[16], s[8], s[0]};
    endfunction

    // Bit offset inside a row of a `width`-bit word at `addr` (widths below 18): which
    // address bits matter depends on the width.
    function [4:0] lane;
        input integer width;
        input [13:0] addr;
        case (width)
            9: lane = {addr[3], 3'b000} + {4'd0, addr[3]};
            4: lane = {addr[3], 3'b000} + {4'd0, addr[3]} + {2'd0, addr[2], 2'b00};
            2: lane = {addr[3], 3'b000} + {4'd0, addr[3]} + {2'd0, addr[2:1], 1'b0};
            1: lane = {addr[3], 3'b000} + {4'd0, addr[3]} + {2'd0, addr[2:0]};
            default: lane = 5'd0;
        endcase
    endfunction
    /* verilator lint_on UNUSEDSIGNAL */

    function [17:0] ones;
        input integer width;
        ones = (width >= 18) ? 18'h3ffff : ((18'h1 << width) - 18'h1);
    endfunction

    wire [17:0] dia = {DIA17, DIA16, DIA15, DIA14, DIA13, DIA12, DIA11, DIA10, DIA9,
                       DIA8, DIA7, DIA6, DIA5, DIA4, DIA3, DIA2, DIA1, DIA0};
    wire [17:0] dib = {DIB17, DIB16, DIB15, DIB14, DIB13, DIB12, DIB11, DIB10, DIB9,
                       DIB8, DIB7, DIB6, DIB5, DIB4, DIB3, DIB2, DIB1, DIB0};
    wire [13:0] ada = {ADA13, ADA12, ADA11, ADA10, ADA9, ADA8, ADA7, ADA6, ADA5, ADA4,
                       ADA3, ADA2, ADA1, ADA0};
    wire [13:0] adb = {ADB13, ADB12, ADB11, ADB10, ADB9, ADB8, ADB7, ADB6, ADB5, ADB4,
                       ADB3, ADB2, ADB1, ADB0};
    wire sela = CEA && ({CSA2, CSA1, CSA0} == csdecode(CSDECODE_A));
    wire selb = CEB && ({CSB2, CSB1, CSB0} == csdecode(CSDECODE_B));

    // Port A's write: the row, its new value and which bits change (a 36-bit write also
    // changes the next row, held in the `_hi` signals).
    wire [9:0] rowa = (DATA_WIDTH_A == 36) ? {ada[13:5], 1'b0} : ada[13:4];
    wire [17:0] bea18 = {{9{ada[1]}}, {9{ada[0]}}};
    wire [17:0] maska = (DATA_WIDTH_A >= 18) ? bea18
        : (ones(DATA_WIDTH_A) << lane(DATA_WIDTH_A, ada));
    wire [17:0] wdata = (DATA_WIDTH_A >= 18) ? dia : (dia << lane(DATA_WIDTH_A, ada));
    wire [17:0] maska_hi = {{9{ada[3]}}, {9{ada[2]}}};
    wire wea = sela && WEA;

    wire [9:0] rowb = adb[13:4];
    wire [17:0] maskb = (DATA_WIDTH_B == 18) ? {{9{adb[1]}}, {9{adb[0]}}}
        : (ones(DATA_WIDTH_B) << lane(DATA_WIDTH_B, adb));
    wire [17:0] wdatb = (DATA_WIDTH_B >= 18) ? dib : (dib << lane(DATA_WIDTH_B, adb));
    wire web = selb && WEB && (DATA_WIDTH_B != 36);

    // What a port reads at its address from `row` (the row its address selects).
    function [17:0] pick;
        input integer width;
        input [13:0] addr;
        input [17:0] row;
        pick = (width >= 18) ? row : ((row >> lane(width, addr)) & ones(width));
    endfunction

    function [17:0] merge;
        input [17:0] old;
        input [17:0] data;
        input [17:0] mask;
        merge = (old & ~mask) | (data & mask);
    endfunction

    // Write side: each port writes its row at its clock edge, as one non-blocking assignment
    // of the whole row. Two ports writing different words of one row at the same edge would
    // lose one write here; bnngen's memories never write from both ports.
    always @(posedge CLKA)
        if (wea) begin
            mem[rowa] <= merge(mem[rowa], wdata, maska);
            if (DATA_WIDTH_A == 36)
                mem[rowa + 10'd1] <= merge(mem[rowa + 10'd1], dib, maska_hi);
        end

    always @(posedge CLKB)
        if (web)
            mem[rowb] <= merge(mem[rowb], wdatb, maskb);

    // The bits of row `row` that a port writing `mask` into row `wrow` (when `on`) changes at
    // this edge: a read by the other port sees them inverted (see the header). Every input is
    // an argument, so a continuous assignment that calls it follows each of them.
    function [17:0] written;
        input on;
        input [9:0] row;
        input [9:0] wrow;
        input [17:0] mask;
        written = (on && row == wrow) ? mask : 18'h0;
    endfunction

    // Read side: the value each output latch takes at the port's clock edge.
    wire wea_hi = wea && DATA_WIDTH_A == 36;
    wire [9:0] rowa_hi = rowa + 10'd1;
    wire [9:0] rowb_hi = {adb[13:5], 1'b1};
    wire [9:0] rowb_lo = {adb[13:5], 1'b0};
    wire [17:0] rowa_now = mem[rowa] ^ written(web, rowa, rowb, maskb);
    wire [17:0] rowb_now = mem[rowb] ^ written(wea, rowb, rowa, maska)
        ^ written(wea_hi, rowb, rowa_hi, maska_hi);
    wire [17:0] rowb_hi_now = mem[rowb_hi] ^ written(wea, rowb_hi, rowa, maska)
        ^ written(wea_hi, rowb_hi, rowa_hi, maska_hi);
    wire [17:0] rowb_lo_now = mem[rowb_lo] ^ written(wea, rowb_lo, rowa, maska)
        ^ written(wea_hi, rowb_lo, rowa_hi, maska_hi);
    reg [17:0] lat_a, lat_b, lat_b_hi, reg_a, reg_b, reg_b_hi;
    wire hold_a = WEA && NORMAL_A;
    wire hold_b = WEB && NORMAL_B;
    wire [17:0] next_a = !sela || DATA_WIDTH_A == 36 || hold_a ? lat_a
        : pick(DATA_WIDTH_A, ada, (WEA && THROUGH_A)
            ? merge(rowa_now, wdata, maska) : rowa_now);
    wire [17:0] next_b = !selb || hold_b ? lat_b
        : DATA_WIDTH_B == 36 ? rowb_lo_now
        : pick(DATA_WIDTH_B, adb, (WEB && THROUGH_B)
            ? merge(rowb_now, wdatb, maskb) : rowb_now);
    wire [17:0] next_b_hi = (selb && DATA_WIDTH_B == 36) ? rowb_hi_now : lat_b_hi;

    // The clocks drive the always blocks directly: a clock made by a continuous assignment
    // would fire a delta later than the flip-flops that feed the cell, and the cell would
    // then take their new values. Yosys inverts a clock only for a negative-edge memory,
    // which bnngen never generates; an inverted clock stops the simulation with a message.
    function legal_width;
        input integer width;
        legal_width = width == 1 || width == 2 || width == 4 || width == 9 || width == 18
            || width == 36;
    endfunction
    initial begin
        if (!legal_width(DATA_WIDTH_A) || !legal_width(DATA_WIDTH_B)) begin
            $display("DP16KD model: DATA_WIDTH_A/B must be 1, 2, 4, 9, 18 or 36");
            $finish;
        end
        if (INVERTED_CLOCK) begin
            $display("DP16KD model: an inverted clock (CLKxMUX \"INV\") is not modelled");
            $finish;
        end
        lat_a = 18'h0;
        lat_b = 18'h0;
        lat_b_hi = 18'h0;
        reg_a = 18'h0;
        reg_b = 18'h0;
        reg_b_hi = 18'h0;
    end

    // The output latch and register of each port, cleared by RSTx at the clock edge whatever
    // CEx is (RESETMODE "SYNC") or at once (RESETMODE "ASYNC": then RSTx also starts the
    // block, through `arst_x`, which stays low in "SYNC" mode).
    wire arst_a = ASYNC_RESET && RSTA;
    wire arst_b = ASYNC_RESET && RSTB;
    always @(posedge CLKA or posedge arst_a)
        if (RSTA) begin
            lat_a <= 18'h0;
            reg_a <= 18'h0;
        end else begin
            lat_a <= next_a;
            if (OCEA) reg_a <= lat_a;
        end
    always @(posedge CLKB or posedge arst_b)
        if (RSTB) begin
            lat_b <= 18'h0;
            lat_b_hi <= 18'h0;
            reg_b <= 18'h0;
            reg_b_hi <= 18'h0;
        end else begin
            lat_b <= next_b;
            lat_b_hi <= next_b_hi;
            if (OCEB) begin
                reg_b <= lat_b;
                reg_b_hi <= lat_b_hi;
            end
        end

    wire [17:0] out_a = OUTREG_A ? reg_a : lat_a;
    wire [17:0] out_b = OUTREG_B ? reg_b : lat_b;
    wire [17:0] out_b_hi = OUTREG_B ? reg_b_hi : lat_b_hi;
    wire [17:0] doa = (DATA_WIDTH_B == 36) ? out_b : out_a;
    wire [17:0] dob = (DATA_WIDTH_B == 36) ? out_b_hi : out_b;
    assign {DOA17, DOA16, DOA15, DOA14, DOA13, DOA12, DOA11, DOA10, DOA9,
            DOA8, DOA7, DOA6, DOA5, DOA4, DOA3, DOA2, DOA1, DOA0} = doa;
    assign {DOB17, DOB16, DOB15, DOB14, DOB13, DOB12, DOB11, DOB10, DOB9,
            DOB8, DOB7, DOB6, DOB5, DOB4, DOB3, DOB2, DOB1, DOB0} = dob;
endmodule

`default_nettype wire
