// Behavioural simulation model of the Lattice ECP5 DP16KD block RAM, written for bnngen's
// gate-level runs: Yosys declares this cell without behaviour (ports and parameters only), so
// a netlist that uses it would otherwise read zeros. It follows the semantics Yosys assumes
// when it maps memories onto the cell (techlibs/ecp5/brams.txt and brams_map.v), which is what
// a gate-level run has to check:
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
//   - RSTx clears the output: at the clock edge whatever CEx is (RESETMODE "SYNC"), or at once
//     (RESETMODE "ASYNC");
//   - REGMODE "OUTREG" adds an output register, loaded on the clock edge when OCEx is high.
// Verilog-2005; not synthesizable as the cell (use the primitive itself for that).
module DP16KD (
    input DIA17, DIA16, DIA15, DIA14, DIA13, DIA12, DIA11, DIA10, DIA9, DIA8, DIA7, DIA6, DIA5, DIA4, DIA3, DIA2, DIA1, DIA0,
    input ADA13, ADA12, ADA11, ADA10, ADA9, ADA8, ADA7, ADA6, ADA5, ADA4, ADA3, ADA2, ADA1, ADA0,
    input CEA, OCEA, CLKA, WEA, RSTA,
    input CSA2, CSA1, CSA0,
    output DOA17, DOA16, DOA15, DOA14, DOA13, DOA12, DOA11, DOA10, DOA9, DOA8, DOA7, DOA6, DOA5, DOA4, DOA3, DOA2, DOA1, DOA0,
    input DIB17, DIB16, DIB15, DIB14, DIB13, DIB12, DIB11, DIB10, DIB9, DIB8, DIB7, DIB6, DIB5, DIB4, DIB3, DIB2, DIB1, DIB0,
    input ADB13, ADB12, ADB11, ADB10, ADB9, ADB8, ADB7, ADB6, ADB5, ADB4, ADB3, ADB2, ADB1, ADB0,
    input CEB, OCEB, CLKB, WEB, RSTB,
    input CSB2, CSB1, CSB0,
    output DOB17, DOB16, DOB15, DOB14, DOB13, DOB12, DOB11, DOB10, DOB9, DOB8, DOB7, DOB6, DOB5, DOB4, DOB3, DOB2, DOB1, DOB0
);
    parameter DATA_WIDTH_A = 18;
    parameter DATA_WIDTH_B = 18;
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

    reg [17:0] mem [0:1023];

    function [319:0] initval;
        input integer k;
        case (k)
            0: initval = INITVAL_00;
            1: initval = INITVAL_01;
            2: initval = INITVAL_02;
            3: initval = INITVAL_03;
            4: initval = INITVAL_04;
            5: initval = INITVAL_05;
            6: initval = INITVAL_06;
            7: initval = INITVAL_07;
            8: initval = INITVAL_08;
            9: initval = INITVAL_09;
            10: initval = INITVAL_0A;
            11: initval = INITVAL_0B;
            12: initval = INITVAL_0C;
            13: initval = INITVAL_0D;
            14: initval = INITVAL_0E;
            15: initval = INITVAL_0F;
            16: initval = INITVAL_10;
            17: initval = INITVAL_11;
            18: initval = INITVAL_12;
            19: initval = INITVAL_13;
            20: initval = INITVAL_14;
            21: initval = INITVAL_15;
            22: initval = INITVAL_16;
            23: initval = INITVAL_17;
            24: initval = INITVAL_18;
            25: initval = INITVAL_19;
            26: initval = INITVAL_1A;
            27: initval = INITVAL_1B;
            28: initval = INITVAL_1C;
            29: initval = INITVAL_1D;
            30: initval = INITVAL_1E;
            31: initval = INITVAL_1F;
            32: initval = INITVAL_20;
            33: initval = INITVAL_21;
            34: initval = INITVAL_22;
            35: initval = INITVAL_23;
            36: initval = INITVAL_24;
            37: initval = INITVAL_25;
            38: initval = INITVAL_26;
            39: initval = INITVAL_27;
            40: initval = INITVAL_28;
            41: initval = INITVAL_29;
            42: initval = INITVAL_2A;
            43: initval = INITVAL_2B;
            44: initval = INITVAL_2C;
            45: initval = INITVAL_2D;
            46: initval = INITVAL_2E;
            47: initval = INITVAL_2F;
            48: initval = INITVAL_30;
            49: initval = INITVAL_31;
            50: initval = INITVAL_32;
            51: initval = INITVAL_33;
            52: initval = INITVAL_34;
            53: initval = INITVAL_35;
            54: initval = INITVAL_36;
            55: initval = INITVAL_37;
            56: initval = INITVAL_38;
            57: initval = INITVAL_39;
            58: initval = INITVAL_3A;
            59: initval = INITVAL_3B;
            60: initval = INITVAL_3C;
            61: initval = INITVAL_3D;
            62: initval = INITVAL_3E;
            63: initval = INITVAL_3F;
            default: initval = 320'h0;
        endcase
    endfunction

    integer r;
    initial begin
        for (r = 0; r < 1024; r = r + 1)
            mem[r] = initval(r / 16) >> (20 * (r % 16));
    end

    // The chip-select pattern a CSDECODE string stands for ("0b000" .. "0b111").
    function [2:0] csdecode;
        input [39:0] s;
        csdecode = {s[16], s[8], s[0]};
    endfunction

    // Bit offset inside a row and bit mask of a `width`-bit word at `addr` (widths below 36).
    function [4:0] lane;
        input integer width;
        input [13:0] addr;
        case (width)
            9: lane = 9 * addr[3];
            4: lane = 9 * addr[3] + 4 * addr[2];
            2: lane = 9 * addr[3] + 2 * addr[2:1];
            1: lane = 9 * addr[3] + addr[2:0];
            default: lane = 0;
        endcase
    endfunction

    function [17:0] ones;
        input integer width;
        ones = (width >= 18) ? 18'h3ffff : ((18'h1 << width) - 18'h1);
    endfunction

    wire [17:0] dia = {DIA17, DIA16, DIA15, DIA14, DIA13, DIA12, DIA11, DIA10, DIA9, DIA8, DIA7, DIA6, DIA5, DIA4, DIA3, DIA2, DIA1, DIA0};
    wire [17:0] dib = {DIB17, DIB16, DIB15, DIB14, DIB13, DIB12, DIB11, DIB10, DIB9, DIB8, DIB7, DIB6, DIB5, DIB4, DIB3, DIB2, DIB1, DIB0};
    wire [13:0] ada = {ADA13, ADA12, ADA11, ADA10, ADA9, ADA8, ADA7, ADA6, ADA5, ADA4, ADA3, ADA2, ADA1, ADA0};
    wire [13:0] adb = {ADB13, ADB12, ADB11, ADB10, ADB9, ADB8, ADB7, ADB6, ADB5, ADB4, ADB3, ADB2, ADB1, ADB0};
    wire sela = CEA && ({CSA2, CSA1, CSA0} == csdecode(CSDECODE_A));
    wire selb = CEB && ({CSB2, CSB1, CSB0} == csdecode(CSDECODE_B));

    // Port A's write: the row, its new value and which bits change (a 36-bit write also
    // changes the next row, held in the `_hi` signals).
    wire [9:0] rowa = (DATA_WIDTH_A == 36) ? {ada[13:5], 1'b0} : ada[13:4];
    wire [17:0] bea18 = {{9{ada[1]}}, {9{ada[0]}}};
    wire [17:0] maska = (DATA_WIDTH_A == 36) ? bea18
        : (DATA_WIDTH_A == 18) ? bea18
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
    // of the whole row (so a read of the same row by the other port at the same edge sees the
    // old data). Two ports writing different words of one row at the same edge would lose one
    // write here; bnngen's memories never write from both ports.
    always @(posedge CLKA)
        if (wea) begin
            mem[rowa] <= merge(mem[rowa], wdata, maska);
            if (DATA_WIDTH_A == 36)
                mem[rowa + 10'd1] <= merge(mem[rowa + 10'd1], dib, maska_hi);
        end

    always @(posedge CLKB)
        if (web)
            mem[rowb] <= merge(mem[rowb], wdatb, maskb);

    // Read side: the value each output latch takes at the port's clock edge.
    wire [17:0] rowa_now = mem[rowa];
    wire [17:0] rowb_now = mem[rowb];
    wire [17:0] rowb_hi_now = mem[{adb[13:5], 1'b1}];
    wire [17:0] rowb_lo_now = mem[{adb[13:5], 1'b0}];
    reg [17:0] lat_a, lat_b, lat_b_hi, reg_a, reg_b, reg_b_hi;
    wire hold_a = WEA && (WRITEMODE_A == "NORMAL");
    wire hold_b = WEB && (WRITEMODE_B == "NORMAL");
    wire [17:0] next_a = !sela || DATA_WIDTH_A == 36 || hold_a ? lat_a
        : pick(DATA_WIDTH_A, ada, (WEA && WRITEMODE_A == "WRITETHROUGH")
            ? merge(rowa_now, wdata, maska) : rowa_now);
    wire [17:0] next_b = !selb || hold_b ? lat_b
        : DATA_WIDTH_B == 36 ? rowb_lo_now
        : pick(DATA_WIDTH_B, adb, (WEB && WRITEMODE_B == "WRITETHROUGH")
            ? merge(rowb_now, wdatb, maskb) : rowb_now);
    wire [17:0] next_b_hi = (selb && DATA_WIDTH_B == 36) ? rowb_hi_now : lat_b_hi;

    // The clocks drive the always blocks directly: a clock made by a continuous assignment
    // would fire a delta later than the flip-flops that feed the cell, and the cell would
    // then take their new values. Yosys inverts a clock only for a negative-edge memory,
    // which bnngen never generates; an inverted clock stops the simulation with a message.
    initial begin
        if (CLKAMUX == "INV" || CLKBMUX == "INV") begin
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
    wire arst_a = (RESETMODE == "ASYNC") && RSTA;
    wire arst_b = (RESETMODE == "ASYNC") && RSTB;
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

    wire [17:0] out_a = (REGMODE_A == "OUTREG") ? reg_a : lat_a;
    wire [17:0] out_b = (REGMODE_B == "OUTREG") ? reg_b : lat_b;
    wire [17:0] out_b_hi = (REGMODE_B == "OUTREG") ? reg_b_hi : lat_b_hi;
    wire [17:0] doa = (DATA_WIDTH_B == 36) ? out_b : out_a;
    wire [17:0] dob = (DATA_WIDTH_B == 36) ? out_b_hi : out_b;
    assign {DOA17, DOA16, DOA15, DOA14, DOA13, DOA12, DOA11, DOA10, DOA9, DOA8, DOA7, DOA6,
            DOA5, DOA4, DOA3, DOA2, DOA1, DOA0} = doa;
    assign {DOB17, DOB16, DOB15, DOB14, DOB13, DOB12, DOB11, DOB10, DOB9, DOB8, DOB7, DOB6,
            DOB5, DOB4, DOB3, DOB2, DOB1, DOB0} = dob;
endmodule
