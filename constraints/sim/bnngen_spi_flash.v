// Behavioural SPI flash for the board-top simulation: mode 0, commands 0xAB (release from
// deep power-down: accepted, no data) and 0x03 (read: 24-bit address, then bytes MSB first
// for as long as CS stays low). Any other command stops the simulation. The contents are
// +flash=FILE (hex, one byte a line) loaded at byte address +flash_at=N; every other byte
// reads 0xFF, as erased flash does. Needs `verilator --binary` (timing). Not synthesizable.

module bnngen_spi_flash #(
    parameter BYTES = 2097152
) (
    input  wire sck,
    input  wire cs_n,
    input  wire mosi,
    output reg  miso
);
    reg [7:0]    mem [0:BYTES-1];
    reg [7:0]    cmd;
    reg [23:0]   addr;
    integer      nbits, at, n, k;
    reg [1023:0] file;

    initial begin
        miso = 1'b0;
        nbits = 0;
        for (k = 0; k < BYTES; k = k + 1) mem[k] = 8'hff;
        if ($value$plusargs("flash=%s", file)) begin
            if (!$value$plusargs("flash_at=%d", at)) $fatal(1, "missing +flash_at=N");
            if (!$value$plusargs("flash_bytes=%d", n)) $fatal(1, "missing +flash_bytes=N");
            $readmemh(file, mem, at, at + n - 1);
        end
    end

    always @(posedge cs_n) nbits = 0;

    always @(posedge sck) begin
        if (!cs_n) begin
            if (nbits < 8) cmd = {cmd[6:0], mosi};
            else if (nbits < 32) addr = {addr[22:0], mosi};
            nbits = nbits + 1;
            if (nbits == 8 && cmd != 8'h03 && cmd != 8'hAB) $fatal(1, "flash: unknown command %02x", cmd);
        end
    end

    always @(negedge sck) begin
        if (!cs_n && nbits >= 32 && cmd == 8'h03)
            miso <= mem[(addr + (nbits - 32) / 8) % BYTES][7 - (nbits - 32) % 8];
    end
endmodule
