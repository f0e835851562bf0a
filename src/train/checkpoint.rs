//! Checkpoints: every trained tensor, tile mask and the epoch reached, as JSON, so a run can
//! resume after the last finished epoch and a teacher can be reused.
//!
//! Adam's state (step count and both moments of every parameter) is saved next to the JSON as
//! a burnpack file (`<checkpoint>.adam.bpk`, burn's `ModuleOptimizer::save`), keyed by the
//! parameter ids that the JSON records, so a resumed run continues with the same optimizer
//! state: with the same seed and thread count it writes the same model as an uninterrupted run
//! (tests/train_repro.rs). Both are written whole or not at all (`crate::output::FileSlot`).

use super::net::Net;
use super::TrainError;
use burn::module::{Param, ParamId, RunningState};
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
    /// burn parameter id of each tensor (None for batch-norm running statistics); the saved
    /// optimizer state is keyed by these ids. Empty in checkpoints of older versions.
    #[serde(default)]
    pub ids: Vec<Option<u64>>,
    pub tiles: Vec<Vec<bool>>,
}

/// Where the optimizer state of a checkpoint lives.
pub fn optimizer_path(checkpoint: &Path) -> std::path::PathBuf {
    let mut s = checkpoint.as_os_str().to_owned();
    s.push(".adam.bpk");
    s.into()
}

/// Save the optimizer state next to a checkpoint (atomic).
pub fn save_optimizer(
    optim: &burn::optim::ModuleOptimizer,
    checkpoint: &Path,
) -> Result<(), TrainError> {
    let path = optimizer_path(checkpoint);
    let bytes = optim.into_bytes().map_err(|e| {
        TrainError::Io(format!("writing optimizer state {}: {e:?}", path.display()))
    })?;
    Ok(crate::output::write_file(&path, &bytes, &[])?)
}

/// Load the optimizer state saved next to a checkpoint, if there is one.
pub fn load_optimizer(
    optim: burn::optim::ModuleOptimizer,
    checkpoint: &Path,
) -> Result<(burn::optim::ModuleOptimizer, bool), TrainError> {
    let path = optimizer_path(checkpoint);
    if !path.exists() {
        return Ok((optim, false));
    }
    optim
        .load(&path)
        .map(|o| (o, true))
        .map_err(|e| TrainError::Io(format!("reading optimizer state {}: {e:?}", path.display())))
}

fn v<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().unwrap()
}

fn bn_save(bn: &BatchNorm, out: &mut Vec<Vec<f32>>, ids: &mut Vec<Option<u64>>) {
    out.push(v(bn.gamma.val()));
    out.push(v(bn.beta.val()));
    out.push(v(bn.running_mean.value()));
    out.push(v(bn.running_var.value()));
    ids.extend([Some(bn.gamma.id.val()), Some(bn.beta.id.val()), None, None]);
}

/// Snapshot of a net.
pub fn snapshot(net: &Net, epochs_done: usize, initial_kept: Vec<usize>) -> Checkpoint {
    let mut t = Vec::new();
    let mut ids = Vec::new();
    let mut tiles = Vec::new();
    if let Some(g) = &net.glt {
        t.push(v(g.val()));
        ids.push(Some(g.id.val()));
    }
    for l in &net.convs {
        t.push(v(l.weight.val()));
        ids.push(Some(l.weight.id.val()));
        bn_save(&l.bn, &mut t, &mut ids);
        tiles.push(l.geo.tiles.clone());
    }
    for l in net.denses.iter().chain(std::iter::once(&net.head)) {
        t.push(v(l.weight.val()));
        ids.push(Some(l.weight.id.val()));
        if let Some(bn) = &l.bn {
            bn_save(bn, &mut t, &mut ids);
        }
        if let (Some(s), Some(b)) = (&l.log_scale, &l.bias) {
            t.push(v(s.val()));
            t.push(v(b.val()));
            ids.extend([Some(s.id.val()), Some(b.id.val())]);
        }
        tiles.push(l.geo.tiles.clone());
    }
    Checkpoint {
        epochs_done,
        initial_kept,
        tensors: t,
        ids,
        tiles,
    }
}

struct Reader<'a> {
    it: std::slice::Iter<'a, Vec<f32>>,
    ids: std::slice::Iter<'a, Option<u64>>,
    /// Id of the tensor last read (None when the checkpoint has no ids).
    id: Option<u64>,
    device: &'a Device,
}

impl Reader<'_> {
    fn next<const D: usize>(&mut self, like: Tensor<D>) -> Result<Tensor<D>, TrainError> {
        let dims = like.dims();
        let data = self
            .it
            .next()
            .ok_or_else(|| TrainError::Config("checkpoint has too few tensors".into()))?;
        self.id = self.ids.next().copied().flatten();
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
    /// A parameter with the next tensor, keeping the saved id (so the saved optimizer state
    /// finds it) when the checkpoint has one.
    fn param<const D: usize>(
        &mut self,
        like: &Param<Tensor<D>>,
    ) -> Result<Param<Tensor<D>>, TrainError> {
        let t = self.next(like.val())?;
        let mut p = Param::from_tensor(t);
        if let Some(id) = self.id {
            p.id = ParamId::from(id);
        }
        Ok(p)
    }
    fn bn(&mut self, bn: &mut BatchNorm) -> Result<(), TrainError> {
        bn.gamma = self.param(&bn.gamma)?;
        bn.beta = self.param(&bn.beta)?;
        bn.running_mean = RunningState::new(self.next(bn.running_mean.value())?);
        bn.running_var = RunningState::new(self.next(bn.running_var.value())?);
        Ok(())
    }
}

/// Load a snapshot into a net built from the same config.
pub fn restore(net: &mut Net, c: &Checkpoint, device: &Device) -> Result<(), TrainError> {
    if !c.ids.is_empty() && c.ids.len() != c.tensors.len() {
        return Err(TrainError::Config(
            "checkpoint: ids and tensors differ in number".into(),
        ));
    }
    let mut r = Reader {
        it: c.tensors.iter(),
        ids: c.ids.iter(),
        id: None,
        device,
    };
    if let Some(g) = &net.glt {
        net.glt = Some(r.param(g)?);
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
        l.weight = r.param(&l.weight)?;
        r.bn(&mut l.bn)?;
        l.geo.tiles = next_tiles(l.geo.tiles.len())?;
    }
    for l in net.denses.iter_mut().chain(std::iter::once(&mut net.head)) {
        l.weight = r.param(&l.weight)?;
        if let Some(bn) = l.bn.as_mut() {
            r.bn(bn)?;
        }
        if let (Some(s), Some(b)) = (l.log_scale.as_mut(), l.bias.as_mut()) {
            *s = r.param(s)?;
            *b = r.param(b)?;
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
    Ok(crate::output::write_file(path, text.as_bytes(), &[])?)
}

pub fn load(path: &Path) -> Result<Checkpoint, TrainError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| TrainError::Io(format!("reading checkpoint {}: {e}", path.display())))?;
    serde_json::from_str(&text)
        .map_err(|e| TrainError::Config(format!("checkpoint {}: {e}", path.display())))
}
