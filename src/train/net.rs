//! The burn network that is trained, and the binarized evaluation graph that export is checked
//! against.
//!
//! Tensors are NCHW (burn's layout). The binary forward pass uses the detach trick for every
//! straight-through estimator: `hard.detach() + (soft - soft.detach())`, so the value is exactly
//! the hard (hardware) value and the gradient is the surrogate's. The front end's hard planes
//! are made on the host from integer pixels and integer thresholds (`pixel >= t`), exactly as
//! the hardware compares them; the GLT surrogate (a sigmoid of the 0..1-scaled distance to the
//! threshold) only supplies gradients. Block masks multiply the binarized weights, so a pruned
//! tile contributes 0 and is not counted, which is the model format's rule.
//!
//! The same struct, built with `binary = false`, is the float teacher for distillation: float
//! weights, ReLU activations, the 0..1 pixels as its input channels.
//!
//! The input is the data's: H x W x C pixel codes and K classes ([`NetInput`]). The front end
//! makes M planes per channel, channel c's planes at `c * M + k` (the model format's order).

use super::config::{FrontEndKind, LayerConfig, PadModeConfig, TrainConfig};
use super::data::ImageShape;
use super::rng::Rng;
use burn::module::{Module, Param};
use burn::nn::{BatchNorm, BatchNormConfig};
use burn::tensor::activation::{relu, sigmoid, softplus};
use burn::tensor::module::{conv2d, max_pool2d};
use burn::tensor::ops::{ConvOptions, MaxPoolOptions, PadMode};
use burn::tensor::{Device, Tensor, TensorData};

/// A binarized (or, for the teacher, float) 2-D convolution with batch norm.
#[derive(Module, Debug)]
pub struct ConvLayer {
    /// Latent weights [out, in, k, k].
    pub weight: Param<Tensor<4>>,
    pub bn: BatchNorm,
    #[module(skip)]
    pub geo: ConvGeo,
}

/// Shape, padding and tiling of one conv layer (not trained).
#[derive(Debug, Clone)]
pub struct ConvGeo {
    pub name: String,
    pub in_channels: usize,
    pub out_channels: usize,
    pub kernel: usize,
    pub stride: usize,
    pub padding: usize,
    pub pad_mode: PadModeConfig,
    pub in_blocks: usize,
    pub out_blocks: usize,
    /// Tile kept flags, (ob, ib) at ob * in_blocks + ib.
    pub tiles: Vec<bool>,
    pub prune: bool,
}

/// A binarized dense layer (or the classifier when `bn` is None) over a flattened NCHW input.
#[derive(Module, Debug)]
pub struct DenseLayer {
    /// Latent weights [out, C*H*W], columns in burn's (c, y, x) flattening order.
    pub weight: Param<Tensor<2>>,
    pub bn: Option<BatchNorm>,
    /// Classifier only: log of the positive logit scale and the float bias.
    pub log_scale: Option<Param<Tensor<1>>>,
    pub bias: Option<Param<Tensor<1>>>,
    #[module(skip)]
    pub geo: DenseGeo,
}

#[derive(Debug, Clone)]
pub struct DenseGeo {
    pub name: String,
    /// Input feature map C x H x W.
    pub in_c: usize,
    pub in_h: usize,
    pub in_w: usize,
    pub out_features: usize,
    pub in_blocks: usize,
    pub out_blocks: usize,
    pub tiles: Vec<bool>,
    pub prune: bool,
}

/// One step of the forward pass, in config order.
#[derive(Debug, Clone, Copy)]
pub enum Step {
    Conv(usize),
    Pool { kernel: usize, stride: usize },
    Dense(usize),
}

#[derive(Module, Debug)]
pub struct Net {
    /// GLT raw parameters [M]: t_0 = theta_0 * s, t_k = t_{k-1} + softplus(theta_k * s) on the
    /// 0..1 pixel scale, where s is `front_end.lr_scale`.
    pub glt: Option<Param<Tensor<1>>>,
    pub convs: Vec<ConvLayer>,
    pub denses: Vec<DenseLayer>,
    pub head: DenseLayer,
    #[module(skip)]
    pub spec: NetSpec,
}

/// What the data fixes about the net: the image shape, the pixel bit depth and the number of
/// classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetInput {
    pub shape: ImageShape,
    pub bits: u32,
    pub classes: usize,
}

#[derive(Debug, Clone)]
pub struct NetSpec {
    pub binary: bool,
    pub front_end: FrontEndKind,
    /// Planes per channel (M, or B for the binary code; 1 for the float teacher).
    pub planes: usize,
    /// Sets of GLT thresholds: 1 (shared by the channels) or C (per channel).
    pub glt_sets: usize,
    /// The input image shape and the number of classes.
    pub shape: ImageShape,
    pub classes: usize,
    /// Bit depth B of the pixel codes; the 0..1 scale of the thresholds is `code / (2^B - 1)`.
    pub bits: u32,
    pub temperature: f64,
    pub lr_scale: f64,
    pub steps: Vec<Step>,
}

/// What export folded: integer thresholds and directions per binary layer, the classifier's
/// integer bias, and the front end's integer thresholds. The evaluation graph runs on these.
#[derive(Debug, Clone)]
pub struct Folded {
    pub fe_thresholds: Vec<u32>,
    /// Per conv, then per dense: (thresholds, up?) per output channel.
    pub conv_act: Vec<(Vec<i64>, Vec<bool>)>,
    pub dense_act: Vec<(Vec<i64>, Vec<bool>)>,
    pub head_bias: Vec<i64>,
}

fn uniform_init(rng: &mut Rng, n: usize, bound: f64) -> Vec<f32> {
    (0..n)
        .map(|_| ((rng.next_f64() * 2.0 - 1.0) * bound) as f32)
        .collect()
}

fn bn(ch: usize, device: &Device) -> BatchNorm {
    BatchNormConfig::new(ch).with_momentum(0.1).init(device)
}

/// Expand a tile mask of a conv to the weight shape [out, in, k, k].
pub fn conv_mask(g: &ConvGeo) -> Vec<f32> {
    let (opb, ipb) = (g.out_channels / g.out_blocks, g.in_channels / g.in_blocks);
    let kk = g.kernel * g.kernel;
    let mut m = vec![0f32; g.out_channels * g.in_channels * kk];
    for o in 0..g.out_channels {
        for i in 0..g.in_channels {
            if g.tiles[(o / opb) * g.in_blocks + i / ipb] {
                let at = (o * g.in_channels + i) * kk;
                m[at..at + kk].iter_mut().for_each(|v| *v = 1.0);
            }
        }
    }
    m
}

/// Expand a tile mask of a dense layer to the weight shape [out, C*H*W] ((c, y, x) columns).
pub fn dense_mask(g: &DenseGeo) -> Vec<f32> {
    let (opb, ipb) = (g.out_features / g.out_blocks, g.in_c / g.in_blocks);
    let hw = g.in_h * g.in_w;
    let cols = g.in_c * hw;
    let mut m = vec![0f32; g.out_features * cols];
    for o in 0..g.out_features {
        for c in 0..g.in_c {
            if g.tiles[(o / opb) * g.in_blocks + c / ipb] {
                let at = o * cols + c * hw;
                m[at..at + hw].iter_mut().for_each(|v| *v = 1.0);
            }
        }
    }
    m
}

fn initial_tiles(in_blocks: usize, out_blocks: usize, grouped: bool) -> Vec<bool> {
    (0..out_blocks * in_blocks)
        .map(|t| !grouped || t / in_blocks == t % in_blocks)
        .collect()
}

impl NetSpec {
    /// The largest pixel code, `2^B - 1`.
    pub fn max_code(&self) -> f64 {
        ((1u64 << self.bits) - 1) as f64
    }
}

impl Net {
    /// Build the binary network (`binary = true`) or its float teacher from a checked config,
    /// for the data's `input`.
    pub fn new(
        cfg: &TrainConfig,
        input: NetInput,
        binary: bool,
        seed: u64,
        device: &Device,
    ) -> Net {
        let bits = input.bits;
        let mut rng = Rng::new(seed);
        let fe = &cfg.front_end;
        let planes = match (binary, fe.kind) {
            (false, _) => 1,
            (true, FrontEndKind::Binary) => bits as usize,
            (true, _) => fe.levels,
        };
        let glt_sets = if fe.per_channel {
            input.shape.channels
        } else {
            1
        };
        let glt = (binary && fe.kind == FrontEndKind::Glt).then(|| {
            // Uniform start: t_k = (k + 1) / (M + 1); inverse softplus of the step.
            let m = fe.levels;
            let step = 1.0 / (m as f64 + 1.0);
            let inv_sp = (step.exp() - 1.0).ln();
            let mut v = vec![(step / fe.lr_scale) as f32];
            v.extend((1..m).map(|_| (inv_sp / fe.lr_scale) as f32));
            let v = v.repeat(glt_sets);
            Param::from_tensor(Tensor::<1>::from_data(
                TensorData::new(v, [glt_sets * m]),
                device,
            ))
        });
        let shape = input.shape;
        let (mut c, mut h, mut w) = (planes * shape.channels, shape.height, shape.width);
        let mut convs = Vec::new();
        let mut denses = Vec::new();
        let mut steps = Vec::new();
        for l in &cfg.layers {
            match l {
                LayerConfig::Conv {
                    name,
                    channels,
                    kernel,
                    stride,
                    padding,
                    pad_mode,
                    in_blocks,
                    out_blocks,
                    grouped,
                    prune,
                } => {
                    let (ib, ob, gr) = if binary {
                        (*in_blocks, *out_blocks, *grouped)
                    } else {
                        (1, 1, false)
                    };
                    let geo = ConvGeo {
                        name: name.clone(),
                        in_channels: c,
                        out_channels: *channels,
                        kernel: *kernel,
                        stride: *stride,
                        padding: *padding,
                        pad_mode: *pad_mode,
                        in_blocks: ib,
                        out_blocks: ob,
                        tiles: initial_tiles(ib, ob, gr),
                        prune: *prune,
                    };
                    let fan_in = (c / ib * kernel * kernel) as f64;
                    let n = channels * c * kernel * kernel;
                    let bound = if binary { 0.5 } else { (6.0 / fan_in).sqrt() };
                    let wv = uniform_init(&mut rng, n, bound);
                    let weight = Param::from_tensor(Tensor::<4>::from_data(
                        TensorData::new(wv, [*channels, c, *kernel, *kernel]),
                        device,
                    ));
                    steps.push(Step::Conv(convs.len()));
                    convs.push(ConvLayer {
                        weight,
                        bn: bn(*channels, device),
                        geo,
                    });
                }
                LayerConfig::Maxpool { kernel, stride, .. } => {
                    steps.push(Step::Pool {
                        kernel: *kernel,
                        stride: *stride,
                    });
                }
                LayerConfig::Dense {
                    name,
                    features,
                    in_blocks,
                    out_blocks,
                    prune,
                } => {
                    let (ib, ob) = if binary {
                        (*in_blocks, *out_blocks)
                    } else {
                        (1, 1)
                    };
                    let geo = DenseGeo {
                        name: name.clone(),
                        in_c: c,
                        in_h: h,
                        in_w: w,
                        out_features: *features,
                        in_blocks: ib,
                        out_blocks: ob,
                        tiles: initial_tiles(ib, ob, false),
                        prune: *prune,
                    };
                    steps.push(Step::Dense(denses.len()));
                    denses.push(dense_layer(geo, binary, false, &mut rng, device));
                }
            }
            (c, h, w) = l.output_shape((c, h, w));
        }
        let cl = &cfg.classifier;
        let ib = if binary { cl.in_blocks } else { 1 };
        let geo = DenseGeo {
            name: cl.name.clone(),
            in_c: c,
            in_h: h,
            in_w: w,
            out_features: input.classes,
            in_blocks: ib,
            out_blocks: 1,
            tiles: vec![true; ib],
            prune: cl.prune,
        };
        let head = dense_layer(geo, binary, true, &mut rng, device);
        Net {
            glt,
            convs,
            denses,
            head,
            spec: NetSpec {
                binary,
                front_end: fe.kind,
                planes,
                glt_sets,
                shape,
                classes: input.classes,
                bits,
                temperature: fe.temperature,
                lr_scale: fe.lr_scale,
                steps,
            },
        }
    }

    /// Start the GLT thresholds at given integer pixel thresholds (each set of M strictly
    /// increasing, 1..=max; one set per `glt_sets`): `t_k = (T_k - 0.5) / max`, so
    /// `ceil(max t_k) = T_k` exactly (max = 2^B - 1). No-op without GLT.
    pub fn set_glt_thresholds(&mut self, t: &[u32]) {
        let Some(g) = self.glt.take() else {
            return;
        };
        let s = self.spec.lr_scale;
        let max = self.spec.max_code();
        let mut raw = Vec::with_capacity(t.len());
        for set in t.chunks(self.spec.planes) {
            let f: Vec<f64> = set.iter().map(|&v| (v as f64 - 0.5) / max).collect();
            raw.push((f[0] / s) as f32);
            // Inverse softplus of each increment: ln(exp(d) - 1).
            raw.extend(
                f.windows(2)
                    .map(|w| ((w[1] - w[0]).exp_m1().ln() / s) as f32),
            );
        }
        let device = g.val().device();
        let n = raw.len();
        self.glt =
            Some(g.map(|_| {
                Tensor::<1>::from_data(TensorData::new(raw, [n]), &device).require_grad()
            }));
    }

    /// The front end's thresholds as floats on the 0..1 scale (GLT only), set after set.
    pub fn glt_float(&self) -> Option<Tensor<1>> {
        let p = self.glt.as_ref()?.val().mul_scalar(self.spec.lr_scale);
        let sets = self.spec.glt_sets;
        if sets > 1 {
            let m = self.spec.planes;
            let p: Tensor<2> = p.reshape([sets, m]);
            let base = p.clone().narrow(1, 0, 1);
            if m == 1 {
                return Some(base.reshape([sets]));
            }
            let inc = softplus(p.narrow(1, 1, m - 1), 1.0).cumsum(1);
            let t = Tensor::cat(vec![base.clone(), inc.add(base.repeat_dim(1, m - 1))], 1);
            return Some(t.reshape([sets * m]));
        }
        let m = p.dims()[0];
        let base = p.clone().narrow(0, 0, 1);
        if m == 1 {
            return Some(base);
        }
        let inc = softplus(p.narrow(0, 1, m - 1), 1.0).cumsum(0);
        Some(Tensor::cat(
            vec![base.clone(), inc.add(base.repeat_dim(0, m - 1))],
            0,
        ))
    }

    /// Integer thresholds in the pixel domain as the hardware compares them (`pixel >= t`):
    /// `ceil(max t)`, then forced strictly increasing inside 0..=max (max = 2^B - 1).
    pub fn fe_thresholds(&self) -> Vec<u32> {
        if !self.spec.binary {
            return Vec::new(); // the float teacher reads the pixel itself
        }
        match self.spec.front_end {
            FrontEndKind::Glt => {
                let t: Vec<f32> = self
                    .glt_float()
                    .unwrap()
                    .into_data()
                    .try_to_vec::<f32>()
                    .unwrap();
                t.chunks(self.spec.planes)
                    .flat_map(|set| integer_thresholds(set, self.spec.bits))
                    .collect()
            }
            FrontEndKind::Uniform => {
                crate::model::uniform_thresholds(self.spec.planes, self.spec.bits)
            }
            FrontEndKind::Binary => Vec::new(),
        }
    }

    /// Logits for a batch. `pixels` is [B, C, H, W] with integer codes 0..=max; `hard` is the
    /// host-made ±1 plane tensor [B, C * planes, H, W] (ignored by the teacher).
    pub fn forward(&self, pixels: Tensor<4>, hard: Tensor<4>) -> Tensor<2> {
        let max = self.spec.max_code();
        let mut x = if !self.spec.binary {
            pixels.div_scalar(max)
        } else if let Some(t) = self.glt_float() {
            let m = self.spec.planes;
            let [b, ch, hh, ww] = pixels.dims();
            let (xs, t4) = if ch == 1 {
                let t4: Tensor<4> = t.reshape([1, m, 1, 1]);
                (pixels.div_scalar(max).repeat_dim(1, m), t4)
            } else {
                // Plane c * M + k compares channel c with threshold k.
                let x5: Tensor<5> = pixels.div_scalar(max).reshape([b, ch, 1, hh, ww]);
                let xs: Tensor<4> = x5.repeat_dim(2, m).reshape([b, ch * m, hh, ww]);
                let t = if self.spec.glt_sets == ch {
                    t
                } else {
                    t.repeat_dim(0, ch)
                };
                let t4: Tensor<4> = t.reshape([1, ch * m, 1, 1]);
                (xs, t4)
            };
            let soft = sigmoid(xs.sub(t4).div_scalar(self.spec.temperature))
                .mul_scalar(2.0)
                .sub_scalar(1.0);
            debug_assert_eq!(hard.dims(), [b, ch * m, hh, ww]);
            ste(hard, soft)
        } else {
            hard
        };
        let steps = &self.spec.steps;
        let mut at = 0;
        while at < steps.len() {
            x = match steps[at] {
                Step::Conv(i) => {
                    let l = &self.convs[i];
                    let a = self.conv_sum(l, x);
                    let mut y = l.bn.forward(a);
                    // A max-pool right after a conv is applied to the batch-norm output, before
                    // the sign: sign(max y) = max sign(y) (the OR of the bits, what the model
                    // format computes) and relu(max y) = max relu(y), so the forward value is
                    // unchanged, but the gradient reaches the window's largest y (unique) and the
                    // surrogate's window is that of the pooled value, instead of an arbitrary
                    // one of tied +1 bits.
                    if let Some(&Step::Pool { kernel, stride }) = steps.get(at + 1) {
                        y = max_pool2d(
                            y,
                            MaxPoolOptions::new([kernel, kernel]).with_stride([stride, stride]),
                        );
                        at += 1;
                    }
                    self.activate(y)
                }
                Step::Pool { kernel, stride } => max_pool2d(
                    x,
                    MaxPoolOptions::new([kernel, kernel]).with_stride([stride, stride]),
                ),
                Step::Dense(i) => {
                    let l = &self.denses[i];
                    let a = self.dense_sum(l, x);
                    let y = l.bn.as_ref().unwrap().forward(a);
                    let y4: Tensor<4> = y.unsqueeze_dim::<3>(2).unsqueeze_dim(3);
                    self.activate(y4)
                }
            };
            at += 1;
        }
        let a = self.dense_sum(&self.head, x);
        let scale = self.head.log_scale.as_ref().unwrap().val().exp();
        let bias = self.head.bias.as_ref().unwrap().val();
        a.mul(scale.unsqueeze()).add(bias.unsqueeze())
    }

    fn activate(&self, y: Tensor<4>) -> Tensor<4> {
        if self.spec.binary {
            let hard = y
                .clone()
                .greater_equal_elem(0.0)
                .float()
                .mul_scalar(2.0)
                .sub_scalar(1.0);
            ste(hard, y.clamp(-1.0, 1.0))
        } else {
            relu(y)
        }
    }

    /// Sign of the latent weights (STE), times the expanded tile mask unless every tile is kept
    /// (`mask` is then not built: `None`).
    fn binarize<const D: usize>(&self, w: Tensor<D>, mask: Option<Vec<f32>>) -> Tensor<D> {
        if !self.spec.binary {
            return w;
        }
        let dims = w.dims();
        let hard = w
            .clone()
            .greater_equal_elem(0.0)
            .float()
            .mul_scalar(2.0)
            .sub_scalar(1.0);
        let wb = ste(hard, w.clone());
        match mask {
            Some(mask) => wb.mul(Tensor::<D>::from_data(
                TensorData::new(mask, dims),
                &w.device(),
            )),
            None => wb,
        }
    }

    /// Signed sums a = 2p - N of a conv (pad handling as the model format says).
    fn conv_sum(&self, l: &ConvLayer, x: Tensor<4>) -> Tensor<4> {
        let mask = (!l.geo.tiles.iter().all(|&k| k)).then(|| conv_mask(&l.geo));
        let w = self.binarize(l.weight.val(), mask);
        let g = &l.geo;
        let (x, pad) = match (self.spec.binary, g.pad_mode) {
            (true, PadModeConfig::MinusOne) => (pad_const(x, g.padding, -1.0), 0),
            (true, PadModeConfig::PlusOne) => (pad_const(x, g.padding, 1.0), 0),
            _ => (x, g.padding),
        };
        conv2d(
            x,
            w,
            None,
            ConvOptions::new([g.stride, g.stride], [pad, pad], [1, 1], 1),
        )
    }

    /// Signed sums of a dense layer over the flattened (c, y, x) input.
    fn dense_sum(&self, l: &DenseLayer, x: Tensor<4>) -> Tensor<2> {
        let mask = (!l.geo.tiles.iter().all(|&k| k)).then(|| dense_mask(&l.geo));
        let w = self.binarize(l.weight.val(), mask);
        let x2: Tensor<2> = x.flatten(1, 3);
        x2.matmul(w.transpose())
    }

    /// The binarized evaluation graph on folded integer parameters: integer sums, integer
    /// thresholds with directions, integer classifier scores. Returns [B, K] scores.
    pub fn eval_folded(&self, hard: Tensor<4>, f: &Folded) -> Vec<i64> {
        let device = hard.device();
        let fire = |a: Tensor<4>, act: &(Vec<i64>, Vec<bool>)| -> Tensor<4> {
            let n = act.0.len();
            let d: Vec<f32> = act
                .1
                .iter()
                .map(|&up| if up { 1.0 } else { -1.0 })
                .collect();
            let td: Vec<f32> = act.0.iter().zip(&d).map(|(&t, &s)| t as f32 * s).collect();
            let d = Tensor::<4>::from_data(TensorData::new(d, [1, n, 1, 1]), &device);
            let td = Tensor::<4>::from_data(TensorData::new(td, [1, n, 1, 1]), &device);
            a.mul(d)
                .sub(td)
                .greater_equal_elem(0.0)
                .float()
                .mul_scalar(2.0)
                .sub_scalar(1.0)
        };
        let mut x = hard;
        for s in &self.spec.steps {
            x = match *s {
                Step::Conv(i) => fire(self.conv_sum(&self.convs[i], x), &f.conv_act[i]),
                Step::Pool { kernel, stride } => max_pool2d(
                    x,
                    MaxPoolOptions::new([kernel, kernel]).with_stride([stride, stride]),
                ),
                Step::Dense(i) => {
                    let a = self.dense_sum(&self.denses[i], x);
                    fire(a.unsqueeze_dim::<3>(2).unsqueeze_dim(3), &f.dense_act[i])
                }
            };
        }
        let a: Vec<f32> = self
            .dense_sum(&self.head, x)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        let k = f.head_bias.len();
        a.iter()
            .enumerate()
            .map(|(i, &v)| v as i64 + f.head_bias[i % k])
            .collect()
    }
}

fn dense_layer(
    g: DenseGeo,
    binary: bool,
    head: bool,
    rng: &mut Rng,
    device: &Device,
) -> DenseLayer {
    let cols = g.in_c * g.in_h * g.in_w;
    let bound = if binary {
        0.5
    } else {
        (6.0 / cols as f64).sqrt()
    };
    let wv = uniform_init(rng, g.out_features * cols, bound);
    let weight = Param::from_tensor(Tensor::<2>::from_data(
        TensorData::new(wv, [g.out_features, cols]),
        device,
    ));
    let (bn_, log_scale, bias) = if head {
        let s = if binary {
            (1.0 / (cols as f64).sqrt()).ln() as f32
        } else {
            0.0
        };
        (
            None,
            Some(Param::from_tensor(Tensor::<1>::from_data(
                TensorData::new(vec![s], [1]),
                device,
            ))),
            Some(Param::from_tensor(Tensor::<1>::zeros(
                [g.out_features],
                device,
            ))),
        )
    } else {
        (Some(bn(g.out_features, device)), None, None)
    };
    DenseLayer {
        weight,
        bn: bn_,
        log_scale,
        bias,
        geo: g,
    }
}

/// Straight-through estimator: the value of `hard`, the gradient of `soft`.
fn ste<const D: usize>(hard: Tensor<D>, soft: Tensor<D>) -> Tensor<D> {
    hard.detach().add(soft.clone().sub(soft.detach()))
}

fn pad_const(x: Tensor<4>, p: usize, v: f32) -> Tensor<4> {
    if p == 0 {
        return x;
    }
    x.pad((p, p, p, p), PadMode::Constant(v))
}

/// `ceil(max t)` (max = 2^bits - 1) clamped to 0..=max, then made strictly increasing (each
/// at least the previous + 1, and at most max - (levels left)).
pub fn integer_thresholds(t: &[f32], bits: u32) -> Vec<u32> {
    let m = t.len();
    let max = (1i64 << bits) - 1;
    let mut out: Vec<i64> = t
        .iter()
        .map(|&v| ((v as f64) * max as f64).ceil() as i64)
        .collect();
    for k in 0..m {
        let lo = if k == 0 { 0 } else { out[k - 1] + 1 };
        let hi = max - (m - 1 - k) as i64;
        out[k] = out[k].clamp(lo, hi.max(lo));
    }
    out.into_iter().map(|v| v as u32).collect()
}

/// Quantile start of M thresholds from `bits`-bit pixel codes: `T_k` is the smallest value with
/// at least a fraction (k+1)/(M+1) of the pixels below it (plane k is on for the brightest
/// 1 - (k+1)/(M+1) of the pixels), then forced strictly increasing inside 1..=max (a threshold
/// of 0 would be a constant plane). Ties in the data (Fashion-MNIST is half zeros) bunch the
/// low thresholds at 1, 2, 3, ...
pub fn quantile_thresholds(pixels: &[u16], m: usize, bits: u32) -> Vec<u32> {
    let max = (1u32 << bits) - 1;
    let mut hist = vec![0u64; max as usize + 1];
    for &p in pixels {
        hist[(p as usize).min(max as usize)] += 1;
    }
    let n = pixels.len().max(1) as f64;
    let mut below = vec![0u64; max as usize + 2]; // below[v] = pixels < v
    for v in 0..=max as usize {
        below[v + 1] = below[v] + hist[v];
    }
    let mut out = Vec::with_capacity(m);
    for k in 0..m {
        let q = (k + 1) as f64 / (m + 1) as f64;
        let t = (1..=max)
            .find(|&v| below[v as usize] as f64 >= q * n)
            .unwrap_or(max);
        let lo = out.last().map_or(1, |&p: &u32| p + 1);
        let hi = max - (m - 1 - k) as u32;
        out.push(t.clamp(lo, hi.max(lo)));
    }
    out
}

/// Host-side front end: ±1 planes [B, C * planes, H, W] (NCHW, plane `c * planes + k` from
/// channel c) from pixel codes stored (y, x, c) per image, as `data::Split` holds them. `t`
/// holds `planes` thresholds shared by the channels, or `planes` per channel.
pub fn hard_planes(
    pixels: &[u16],
    shape: ImageShape,
    kind: FrontEndKind,
    planes: usize,
    t: &[u32],
) -> Vec<f32> {
    let (hw, ch) = (shape.height * shape.width, shape.channels);
    let per_image = hw * ch;
    let n = pixels.len() / per_image;
    let mut out = vec![0f32; n * planes * per_image];
    for b in 0..n {
        let img = &pixels[b * per_image..(b + 1) * per_image];
        for c in 0..ch {
            for k in 0..planes {
                let at = ((b * ch + c) * planes + k) * hw;
                for i in 0..hw {
                    let p = img[i * ch + c];
                    let at_k = if t.len() == ch * planes {
                        c * planes + k
                    } else {
                        k
                    };
                    let bit = match kind {
                        FrontEndKind::Binary => (p >> k) & 1 == 1,
                        _ => u32::from(p) >= t.get(at_k).copied().unwrap_or(u32::MAX),
                    };
                    out[at + i] = if bit { 1.0 } else { -1.0 };
                }
            }
        }
    }
    out
}

/// Pixel codes stored (y, x, c) per image as floats in NCHW order ([B, C, H, W]).
pub fn nchw_pixels(pixels: &[u16], shape: ImageShape) -> Vec<f32> {
    let (hw, ch) = (shape.height * shape.width, shape.channels);
    if ch == 1 {
        return pixels.iter().map(|&p| p as f32).collect();
    }
    let per_image = hw * ch;
    let mut out = Vec::with_capacity(pixels.len());
    for img in pixels.chunks_exact(per_image) {
        for c in 0..ch {
            out.extend((0..hw).map(|i| img[i * ch + c] as f32));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_live_on_the_code_scale_of_the_pixel_depth() {
        // ceil(max t), max = 2^B - 1, forced strictly increasing inside 0..=max.
        assert_eq!(integer_thresholds(&[0.5, 0.5, 1.0], 8), vec![128, 129, 255]);
        assert_eq!(
            integer_thresholds(&[0.5, 0.5, 1.0], 10),
            vec![512, 513, 1023]
        );
        assert_eq!(integer_thresholds(&[1.0, 1.0], 10), vec![1022, 1023]);
        assert_eq!(integer_thresholds(&[-0.2, 0.0], 12), vec![0, 1]);
        // Quantiles of 10-bit codes: a quarter each at 0, 100, 600 and 1023.
        let px: Vec<u16> = [0u16, 100, 600, 1023]
            .iter()
            .flat_map(|&v| std::iter::repeat_n(v, 250))
            .collect();
        assert_eq!(quantile_thresholds(&px, 3, 10), vec![1, 101, 601]);
        // Above the 8-bit range the codes are not clipped to 255.
        assert_eq!(quantile_thresholds(&px, 1, 10), vec![101]);
    }

    const GREY: ImageShape = ImageShape {
        height: 28,
        width: 28,
        channels: 1,
    };

    #[test]
    fn binary_planes_are_the_code_bits_lsb_first() {
        let n = GREY.pixels();
        let mut px = vec![0u16; n];
        px[0] = 0b10;
        px[1] = 0b01;
        let p = hard_planes(&px, GREY, FrontEndKind::Binary, 2, &[]);
        assert_eq!((p[0], p[1]), (-1.0, 1.0), "plane 0 = bit 0");
        assert_eq!((p[n], p[n + 1]), (1.0, -1.0), "plane 1 = bit 1");
        let t = hard_planes(&px, GREY, FrontEndKind::Uniform, 1, &[2]);
        assert_eq!((t[0], t[1], t[2]), (1.0, -1.0, -1.0), "plane = code >= t");
    }

    /// Two 1x2 RGB pixels: plane c * M + k of pixel i compares channel c of pixel i with
    /// threshold k, as the model format orders the front end's output channels.
    #[test]
    fn colour_planes_are_channel_major() {
        let rgb = ImageShape {
            height: 1,
            width: 2,
            channels: 3,
        };
        // Pixel 0 = (1, 5, 9), pixel 1 = (6, 2, 4).
        let px = [1u16, 5, 9, 6, 2, 4];
        let p = hard_planes(&px, rgb, FrontEndKind::Uniform, 2, &[3, 7]);
        let on = |v: bool| if v { 1.0 } else { -1.0 };
        let want: Vec<f32> = (0..3)
            .flat_map(|c| {
                [3u16, 7]
                    .into_iter()
                    .flat_map(move |t| [px[c], px[3 + c]].into_iter().map(move |v| on(v >= t)))
            })
            .collect();
        assert_eq!(p, want);
        assert_eq!(nchw_pixels(&px, rgb), [1.0, 6.0, 5.0, 2.0, 9.0, 4.0]);
    }
}
