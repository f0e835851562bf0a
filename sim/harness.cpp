// bnngen co-simulation harness: drives the generated top (Verilator class Vdut) from a
// stimulus file and writes every result beat (and, with debug taps, every tapped handshake)
// to a results file. All stimulus (pixels, input gaps, output back-pressure) is made by Rust
// from a seed, so runs are reproducible; the comparison with the reference model is in Rust.
//
// Usage: harness STIMULUS RESULTS [TRACE.vcd] [+verilator+... options]
//
// Stimulus (whitespace-separated text):
//   frames N  pixels P  in_words WI  timeout T  debug D
//   ready L  b_0 .. b_{L-1}            (m_axis_tready pattern, cycled)
//   then N*P pixels: gap w_0 .. w_{WI-1} (idle cycles before the pixel; tdata words, LSW first)
//   built with BNN_WLOAD (weights in SPRAM): then  wload W D  x_0 .. x_{W-1}  (16-bit image
//   words, hex; the top's wl_data keeps their low D bits), written on the wl_* load bus
//   while rst is high, one per cycle
// Results: "R cycle words..." per result beat, "D cycle fire-words... data-words..." per
// cycle with a debug handshake, "END cycle" or "TIMEOUT cycle".
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "Vdut.h"
#include "verilated.h"
#ifdef BNN_TRACE
#include "verilated_vcd_c.h"
#endif

typedef std::vector<uint32_t> Words;

static void put(CData& p, const Words& w) { p = (CData)w[0]; }
static void put(SData& p, const Words& w) { p = (SData)w[0]; }
static void put(IData& p, const Words& w) { p = w[0]; }
static void put(QData& p, const Words& w) {
    p = (QData)w[0] | ((w.size() > 1 ? (QData)w[1] : 0) << 32);
}
template <std::size_t N> static void put(VlWide<N>& p, const Words& w) {
    for (std::size_t i = 0; i < N; i++) p[i] = i < w.size() ? w[i] : 0;
}
static Words get(CData p) { return Words{p}; }
static Words get(SData p) { return Words{p}; }
static Words get(IData p) { return Words{p}; }
static Words get(QData p) { return Words{(uint32_t)p, (uint32_t)(p >> 32)}; }
template <std::size_t N> static Words get(const VlWide<N>& p) {
    Words w(N);
    for (std::size_t i = 0; i < N; i++) w[i] = p[i];
    return w;
}
static bool any(const Words& w) {
    for (uint32_t x : w)
        if (x) return true;
    return false;
}
static void emit(FILE* f, const Words& w) {
    for (uint32_t x : w) std::fprintf(f, " %x", x);
}

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: harness STIMULUS RESULTS [TRACE.vcd]\n");
        return 2;
    }
    std::ifstream in(argv[1]);
    std::string key;
    uint64_t frames = 0, pixels = 0, in_words = 0, timeout = 0, debug = 0, plen = 0;
    in >> key >> frames >> key >> pixels >> key >> in_words >> key >> timeout >> key >> debug;
    in >> key >> plen;
    if (!in || plen == 0) {
        std::fprintf(stderr, "bad stimulus header\n");
        return 2;
    }
    std::vector<uint8_t> pattern(plen);
    for (auto& b : pattern) {
        int v;
        in >> v;
        b = (uint8_t)v;
    }
    const uint64_t total = frames * pixels;
    std::vector<uint64_t> gaps(total);
    std::vector<Words> data(total, Words(in_words));
    for (uint64_t i = 0; i < total; i++) {
        in >> gaps[i];
        for (auto& w : data[i]) in >> std::hex >> w >> std::dec;
    }
#ifdef BNN_WLOAD
    uint64_t wwords = 0, wbits = 16;
    in >> key >> wwords >> wbits;
    std::vector<uint32_t> image(wwords);
    for (auto& w : image) in >> std::hex >> w >> std::dec;
#endif
    if (!in) {
        std::fprintf(stderr, "stimulus truncated\n");
        return 2;
    }
    FILE* out = std::fopen(argv[2], "w");
    if (!out) return 2;

    auto ctx = std::make_unique<VerilatedContext>();
    // +verilator+seed+N and +verilator+rand+reset+2 (random initial values, for builds with
    // --x-initial unique); must come before the model is constructed.
    ctx->commandArgs(argc, argv);
    auto top = std::make_unique<Vdut>(ctx.get());
#ifdef BNN_TRACE
    std::unique_ptr<VerilatedVcdC> tr;
    if (argc > 3 && argv[3][0] != '+') {
        ctx->traceEverOn(true);
        tr = std::make_unique<VerilatedVcdC>();
        top->trace(tr.get(), 99);
        tr->open(argv[3]);
    }
#endif
    uint64_t time = 0;
    auto tick = [&]() {
        top->clk = 0;
        top->eval();
#ifdef BNN_TRACE
        if (tr) tr->dump(time);
#endif
        time++;
        top->clk = 1;
        top->eval();
#ifdef BNN_TRACE
        if (tr) tr->dump(time);
#endif
        time++;
    };
    top->rst = 1;
    top->s_axis_tvalid = 0;
    top->m_axis_tready = 0;
    for (int i = 0; i < 4; i++) tick();
#ifdef BNN_WLOAD
    for (uint64_t i = 0; i < wwords; i++) {
        top->wl_we = 1;
        top->wl_addr = (SData)i;
        top->wl_data = (SData)(image[i] & ((1u << wbits) - 1));
        tick();
    }
    top->wl_we = 0;
    top->wl_addr = 0;
    top->wl_data = 0;
    tick();  // the stores write one cycle after the bus word
    tick();
#endif
    top->rst = 0;

    uint64_t next = 0, gap = total ? gaps[0] : 0, results = 0, cycle = 0;
    while (results < frames && cycle < timeout) {
        bool valid = next < total && gap == 0;
        top->s_axis_tvalid = valid;
        if (valid) put(top->s_axis_tdata, data[next]);
        top->s_axis_tlast = valid && (next % pixels) == pixels - 1;
        bool ready = pattern[cycle % plen] != 0;
        top->m_axis_tready = ready;
        top->clk = 0;
        top->eval();
        bool in_fire = valid && top->s_axis_tready;
        if (top->m_axis_tvalid && ready) {
            std::fprintf(out, "R %llu", (unsigned long long)cycle);
            emit(out, get(top->m_axis_tdata));
            std::fprintf(out, "\n");
            results++;
        }
#ifdef BNN_DEBUG
        if (debug) {
            Words fire = get(top->dbg_fire);
            if (any(fire)) {
                std::fprintf(out, "D %llu", (unsigned long long)cycle);
                emit(out, fire);
                emit(out, get(top->dbg_data));
                std::fprintf(out, "\n");
            }
        }
#endif
        tick();
        if (in_fire) {
            next++;
            gap = next < total ? gaps[next] : 0;
        } else if (gap > 0) {
            gap--;
        }
        cycle++;
    }
    (void)any;
    std::fprintf(out, results < frames ? "TIMEOUT %llu\n" : "END %llu\n", (unsigned long long)cycle);
    std::fclose(out);
    top->final();
#ifdef BNN_TRACE
    if (tr) tr->close();
#endif
    return 0;
}
