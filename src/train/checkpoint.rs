//! Checkpoints: every trained tensor, tile mask and the epoch reached, as JSON, so a run can
//! resume after the last finished epoch and a teacher can be reused.
//!
//! The optimizer's moments are not saved: a resumed run restarts Adam's moment estimates, so
//! it is reproducible (same seed, same checkpoint, same result) but not bit-identical to an
//! uninterrupted run. Writes are atomic (temporary file, then rename).

use super::net::Net;
use super::TrainError;
use burn::module::{Param, RunningState};
use burn::nn::BatchNorm;
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Serialize, Deserialize)]
pub struct Checkpoint {
    /// Epochs finished (the next epoch to run).
    pub epochs_done: usize,
    /// Kept-tile counts when pruning started (see `prune::apply`).
    pub initial_kept: Vec<usize>,
    pub tensors: Vec<Vec<f32>>,
    pub tiles: Vec<Vec<bool>>,
}

fn v<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().unwrap()
}

fn bn_save(bn: &BatchNorm, out: &mut Vec<Vec<f32>>) {
    out.push(v(bn.gamma.val()));
    out.push(v(bn.beta.val()));
    out.push(v(bn.running_mean.value()));
    out.push(v(bn.running_var.value()));
}

/// Snapshot of a net.
pub fn snapshot(net: &Net, epochs_done: usize, initial_kept: Vec<usize>) -> Checkpoint {
    let mut t = Vec::new();
    let mut tiles = Vec::new();
    if let Some(g) = &net.glt {
        t.push(v(g.val()));
    }
    for l in &net.convs {
        t.push(v(l.weight.val()));
        bn_save(&l.bn, &mut t);
        tiles.push(l.geo.tiles.clone());
    }
    for l in net.denses.iter().chain(std::iter::once(&net.head)) {
        t.push(v(l.weight.val()));
        if let Some(bn) = &l.bn {
            bn_save(bn, &mut t);
        }
        if let (Some(s), Some(b)) = (&l.log_scale, &l.bias) {
            t.push(v(s.val()));
            t.push(v(b.val()));
        }
        tiles.push(l.geo.tiles.clone());
    }
    Checkpoint {
        epochs_done,
        initial_kept,
        tensors: t,
        tiles,
    }
}

struct Reader<'a> {
    it: std::slice::Iter<'a, Vec<f32>>,
    device: &'a Device,
}

impl Reader<'_> {
    fn next<const D: usize>(&mut self, like: Tensor<D>) -> Result<Tensor<D>, TrainError> {
        let dims = like.dims();
        let data = self
            .it
            .next()
            .ok_or_else(|| TrainError::Config("checkpoint has too few tensors".into()))?;
        if data.len() != dims.iter().product::<usize>() {
            return Err(TrainError::Config(format!(
                "checkpoint tensor of {} values does not fit shape {dims:?} (different config?)",
                data.len()
            )));
        }
        Ok(Tensor::from_data(
            TensorData::new(data.clone(), dims),
            self.device,
        ))
    }
    fn bn(&mut self, bn: &mut BatchNorm) -> Result<(), TrainError> {
        bn.gamma = Param::from_tensor(self.next(bn.gamma.val())?);
        bn.beta = Param::from_tensor(self.next(bn.beta.val())?);
        bn.running_mean = RunningState::new(self.next(bn.running_mean.value())?);
        bn.running_var = RunningState::new(self.next(bn.running_var.value())?);
        Ok(())
    }
}

/// Load a snapshot into a net built from the same config.
pub fn restore(net: &mut Net, c: &Checkpoint, device: &Device) -> Result<(), TrainError> {
    let mut r = Reader {
        it: c.tensors.iter(),
        device,
    };
    if let Some(g) = &net.glt {
        net.glt = Some(Param::from_tensor(r.next(g.val())?));
    }
    let mut tiles = c.tiles.iter();
    let mut next_tiles = |want: usize| -> Result<Vec<bool>, TrainError> {
        let t = tiles
            .next()
            .ok_or_else(|| TrainError::Config("checkpoint has too few masks".into()))?;
        if t.len() != want {
            return Err(TrainError::Config(
                "checkpoint mask does not fit the config".into(),
            ));
        }
        Ok(t.clone())
    };
    for l in net.convs.iter_mut() {
        l.weight = Param::from_tensor(r.next(l.weight.val())?);
        r.bn(&mut l.bn)?;
        l.geo.tiles = next_tiles(l.geo.tiles.len())?;
    }
    for l in net.denses.iter_mut().chain(std::iter::once(&mut net.head)) {
        l.weight = Param::from_tensor(r.next(l.weight.val())?);
        if let Some(bn) = l.bn.as_mut() {
            r.bn(bn)?;
        }
        if let (Some(s), Some(b)) = (l.log_scale.as_mut(), l.bias.as_mut()) {
            *s = Param::from_tensor(r.next(s.val())?);
            *b = Param::from_tensor(r.next(b.val())?);
        }
        l.geo.tiles = next_tiles(l.geo.tiles.len())?;
    }
    if r.it.next().is_some() {
        return Err(TrainError::Config(
            "checkpoint has more tensors than the config's net".into(),
        ));
    }
    Ok(())
}

pub fn save(c: &Checkpoint, path: &Path) -> Result<(), TrainError> {
    let text = serde_json::to_string(c).map_err(|e| TrainError::Internal(e.to_string()))?;
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text)
        .and_then(|_| std::fs::rename(&tmp, path))
        .map_err(|e| TrainError::Io(format!("writing checkpoint {}: {e}", path.display())))
}

pub fn load(path: &Path) -> Result<Checkpoint, TrainError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| TrainError::Io(format!("reading checkpoint {}: {e}", path.display())))?;
    serde_json::from_str(&text)
        .map_err(|e| TrainError::Config(format!("checkpoint {}: {e}", path.display())))
}
