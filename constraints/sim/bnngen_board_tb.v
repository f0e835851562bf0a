// Simulation test bench for bnngen_board_core: plays the host on the UART. It sends the bytes
// of +stim=FILE (hex, one byte a line; +n_in=N of them) with a few idle bits between bytes,
// decodes every byte the board transmits with its own bit-timing receiver (independent of the
// RTL one), writes them to +out=FILE (hex, one a line), and stops after +n_out=M bytes.
// Needs `verilator --binary` (timing). BNNGEN_CLKS_PER_BIT must match the core's.

`ifndef BNNGEN_CLKS_PER_BIT
`define BNNGEN_CLKS_PER_BIT 104
`endif

module bnngen_board_tb;
    localparam CPB = `BNNGEN_CLKS_PER_BIT;
    reg        clk = 1'b0;
    reg        rx = 1'b1;
    reg        locked = 1'b0;
    wire       tx;
    wire       error;
    wire       frame_toggle;
    reg [7:0]  stim [0:1048575];
    integer    n_in, n_out, got, i, k, fd, cycles;
    integer    load_cycles = 0;  // +load_cycles=N: bound on the weight load from flash
    integer    compute_cycles = 0;  // +compute_cycles=N: bound on the accelerator's frames
    reg [7:0]  b;
    reg [1023:0] stim_file, out_file;

    always #1 clk = !clk;

`ifdef BNNGEN_WLOAD
    // The weights come from the behavioural flash (+flash=FILE at +flash_at=N).
    wire flash_sck, flash_cs_n, flash_mosi, flash_miso;
    bnngen_spi_flash u_flash (
        .sck(flash_sck), .cs_n(flash_cs_n), .mosi(flash_mosi), .miso(flash_miso)
    );
    bnngen_board_core u_core (
        .flash_sck(flash_sck), .flash_cs_n(flash_cs_n), .flash_mosi(flash_mosi),
        .flash_miso(flash_miso),
        .clk(clk), .locked(locked), .rx(rx), .tx(tx), .error(error),
        .frame_toggle(frame_toggle)
    );
`else
    bnngen_board_core u_core (
        .clk(clk), .locked(locked), .rx(rx), .tx(tx), .error(error),
        .frame_toggle(frame_toggle)
    );
`endif

    // The PLL's LOCK comes up later than the 16-cycle power-on reset would end on its own;
    // until then the core must stay in reset.
    initial begin
        repeat (40) @(posedge clk);
        locked = 1'b1;
    end
    always @(posedge clk) begin
        if (!locked && !u_core.rst) $fatal(1, "board core left reset before the PLL locked");
    end

    // Host transmitter.
    initial begin
        if (!$value$plusargs("stim=%s", stim_file)) $fatal(1, "missing +stim=FILE");
        if (!$value$plusargs("out=%s", out_file)) $fatal(1, "missing +out=FILE");
        if (!$value$plusargs("n_in=%d", n_in)) $fatal(1, "missing +n_in=N");
        if (!$value$plusargs("n_out=%d", n_out)) $fatal(1, "missing +n_out=M");
        if ($value$plusargs("load_cycles=%d", load_cycles)) begin end
        if ($value$plusargs("compute_cycles=%d", compute_cycles)) begin end
        $readmemh(stim_file, stim, 0, n_in - 1);
        fd = $fopen(out_file, "w");
        @(negedge u_core.rst);
        repeat (4) @(posedge clk);
        for (i = 0; i < n_in; i = i + 1) begin
            rx = 1'b0;
            repeat (CPB) @(posedge clk);
            for (k = 0; k < 8; k = k + 1) begin
                rx = stim[i][k];
                repeat (CPB) @(posedge clk);
            end
            rx = 1'b1;
            repeat (CPB * (1 + (i % 3))) @(posedge clk);
        end
    end

    // Host receiver: waits for a start bit, samples each bit in its middle.
    initial begin
        got = 0;
        forever begin
            @(negedge tx);
            repeat (CPB / 2) @(posedge clk);
            if (tx) $fatal(1, "glitch on tx: no start bit");
            for (k = 0; k < 8; k = k + 1) begin
                repeat (CPB) @(posedge clk);
                b[k] = tx;
            end
            repeat (CPB) @(posedge clk);
            if (!tx) $fatal(1, "framing error on tx: stop bit low");
            $fwrite(fd, "%02x\n", b);
            got = got + 1;
            if (got == n_out) begin
                $fclose(fd);
                if (error) $fatal(1, "board core raised its error flag");
                $finish;
            end
        end
    end

    // Watchdog: generous bound on the bits both directions need, the weight load and the
    // accelerator's own cycles.
    initial begin
        cycles = 0;
        forever begin
            @(posedge clk);
            cycles = cycles + 1;
            if (cycles > 40 * CPB * (n_in + n_out + 100) + load_cycles + compute_cycles) $fatal(1, "timeout after %0d cycles (%0d of %0d bytes back)", cycles, got, n_out);
        end
    end
endmodule
