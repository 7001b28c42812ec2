//! PyTorch's optimizer `state_dict()` as JSON (or safetensors, converted to the same
//! document by [`safetensors_state_document`]), read into a [`CheckpointState`].
//!
//! Layout (what `json.dump` of `optimizer.state_dict()` gives once every tensor is a
//! nested list, `python/deadrelu/checkpoint.py` writes it):
//!
//! ```text
//! {"state": {"0": {"step": 120, "exp_avg": [[...], ...], "exp_avg_sq": [...]}, "1": {...}, ...},
//!  "param_groups": [{"params": [0, 1, 2, 3], ...}]}
//! ```
//!
//! Parameter order: state key `i` is the `i`-th tensor of `model.parameters()`, for an
//! `nn.Sequential` of `nn.Linear` layers `W_1, b_1, W_2, b_2, ...`, which is the layout of
//! `theta` (MECHANISM.md): key `2(k-1)` is `W_k` (row-major, `l_k x l_{k-1}`), key
//! `2(k-1)+1` is `B_k`. A tensor is a nested list (flattened row-major) or a flat list; its
//! length must be the parameter's size. Numbers are JSON numbers (their exact double value:
//! an `f32` tensor's entries are exact) or exact strings (`"13/48"`). A key missing from
//! `state` (a parameter never stepped) is a zero state with `step = 0`; `null` buffers
//! (SGD's `momentum_buffer` without momentum) are zero. `step` is a number (PyTorch keeps
//! it as a float tensor) that must be a non-negative integer. The parameter groups
//! may hold any hyperparameters; with several groups their `params` lists must partition
//! `0, 1, ..., 2L-1` and each coordinate is bounded with its group's hyperparameters
//! ([`group_hyper`]; a float is read as the decimal of its shortest repr, as the flags
//! read Python floats).

use super::CheckpointState;
use crate::io::tensors::TensorError;
use crate::io::weights::{EntryError, exact_from_json};
use crate::net::Arch;
use crate::scalar::{BigRational, ScalarError};
use num_traits::{ToPrimitive, Zero};
use serde_json::Value;

/// Why a state document is refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// The document does not have PyTorch's layout (module docs): the reader's own words
    /// for what does not fit (which key, group, parameter or buffer), no other error inside.
    #[error("optimizer state: {0}")]
    Layout(String),
    /// A buffer entry or `step` that is not an exact number.
    #[error("optimizer state: {what}: {source}")]
    Entry {
        /// Where (`state[3].exp_avg`).
        what: String,
        /// The cause.
        source: EntryError,
    },
    /// A hyperparameter of a parameter group that is not an exact number.
    #[error("optimizer state: {what}: {source}")]
    Number {
        /// Where (`param_groups[0].lr`).
        what: String,
        /// The cause.
        source: ScalarError,
    },
    /// A safetensors state file that cannot be read.
    #[error("optimizer state: {0}")]
    File(#[from] TensorError),
    /// The metadata entry `param_groups` of a safetensors state file is not JSON.
    #[error("optimizer state: metadata param_groups: {0}")]
    Metadata(#[source] serde_json::Error),
}

fn err<T>(text: impl Into<String>) -> Result<T, StateError> {
    Err(StateError::Layout(text.into()))
}

/// An entry of the document as an exact number, or [`StateError::Entry`] naming `what`.
fn exact_entry(v: &Value, what: &str) -> Result<BigRational, StateError> {
    exact_from_json(v).map_err(|source| StateError::Entry {
        what: what.to_string(),
        source,
    })
}

/// Appends the entries of a (nested) list to `out`.
fn flatten(v: &Value, out: &mut Vec<BigRational>, what: &str) -> Result<(), StateError> {
    match v {
        Value::Array(items) => {
            for item in items {
                flatten(item, out, what)?;
            }
            Ok(())
        }
        other => {
            let x = exact_entry(other, what)?;
            out.push(x);
            Ok(())
        }
    }
}

/// Reads PyTorch's optimizer state (module docs) for a network of architecture `arch`.
///
/// # Errors
/// [`StateError`] naming the parameter and buffer that do not fit.
pub fn parse_torch_state(doc: &Value, arch: &Arch) -> Result<CheckpointState, StateError> {
    let Some(obj) = doc.as_object() else {
        return err("expected a JSON object with \"state\" and \"param_groups\"");
    };
    let tensors = 2 * arch.depth();
    let mut sizes = Vec::with_capacity(tensors);
    for k in 1..=arch.depth() {
        sizes.push(arch.width(k) * arch.width(k - 1));
        sizes.push(arch.width(k));
    }
    let mut group_of: Vec<usize> = Vec::new();
    if let Some(groups) = obj.get("param_groups") {
        let Some(groups) = groups.as_array() else {
            return err("\"param_groups\" must be a list");
        };
        if groups.is_empty() {
            return err("\"param_groups\" is empty");
        }
        let mut owner: Vec<Option<usize>> = vec![None; tensors];
        let mut listed = false;
        for (g, group) in groups.iter().enumerate() {
            let Some(params) = group.get("params") else {
                if groups.len() > 1 {
                    return err(format!("param_groups[{g}] has no \"params\" list"));
                }
                continue;
            };
            listed = true;
            let ids: Option<Vec<u64>> = params
                .as_array()
                .map(|a| a.iter().map(Value::as_u64).collect::<Option<Vec<_>>>())
                .unwrap_or(None);
            let Some(ids) = ids else {
                return err(format!(
                    "param_groups[{g}].params must be a list of parameter indices"
                ));
            };
            for id in ids {
                let slot = usize::try_from(id).ok().and_then(|i| owner.get_mut(i));
                match slot {
                    Some(slot @ None) => *slot = Some(g),
                    Some(Some(_)) => {
                        return err(format!("parameter {id} is in two parameter groups"));
                    }
                    None => {
                        return err(format!(
                            "param_groups[{g}].params: {id} is not a parameter index 0..{} (W_1, b_1, W_2, b_2, ... of an nn.Sequential of nn.Linear)",
                            tensors - 1
                        ));
                    }
                }
            }
        }
        if listed {
            if let Some(missing) = owner.iter().position(Option::is_none) {
                return err(format!(
                    "parameter {missing} is in no parameter group (the groups must hold every parameter 0..{})",
                    tensors - 1
                ));
            }
            if groups.len() > 1 {
                for (k, g) in owner.iter().enumerate() {
                    let size = if k % 2 == 0 {
                        arch.width(k / 2 + 1) * arch.width(k / 2)
                    } else {
                        arch.width(k / 2 + 1)
                    };
                    group_of.extend(std::iter::repeat_n(g.expect("checked"), size));
                }
            }
        }
    }
    let Some(state) = obj.get("state").and_then(Value::as_object) else {
        return err("\"state\" must be an object keyed by parameter index");
    };
    for key in state.keys() {
        if key.parse::<usize>().ok().filter(|&k| k < tensors).is_none() {
            return err(format!(
                "state key {key:?} is not a parameter index 0..{}",
                tensors - 1
            ));
        }
    }
    let dim = arch.num_params();
    let mut out = CheckpointState::zero(dim);
    let mut mu_product = vec![BigRational::from_integer(1.into()); dim];
    let mut has_mu = false;
    let mut offset = 0;
    for (index, &size) in sizes.iter().enumerate() {
        let range = offset..offset + size;
        offset += size;
        let Some(entry) = state.get(&index.to_string()) else {
            continue;
        };
        let Some(entry) = entry.as_object() else {
            return err(format!("state[{index}] must be an object"));
        };
        for (name, value) in entry {
            let what = format!("state[{index}].{name}");
            match name.as_str() {
                "step" => {
                    let x = exact_entry(value, &what)?;
                    let step = x
                        .is_integer()
                        .then(|| x.to_integer().to_u64())
                        .flatten()
                        .ok_or_else(|| {
                            StateError::Layout(format!("{what}: {x} is not a step count"))
                        })?;
                    out.step[range.clone()].iter_mut().for_each(|s| *s = step);
                }
                "mu_product" => {
                    let mut v = Vec::new();
                    flatten(value, &mut v, &what)?;
                    let [p] = v.as_slice() else {
                        return err(format!("{what}: expected one number"));
                    };
                    mu_product[range.clone()]
                        .iter_mut()
                        .for_each(|m| *m = p.clone());
                    has_mu = true;
                }
                _ => {
                    if value.is_null() {
                        continue;
                    }
                    let mut v = Vec::with_capacity(size);
                    flatten(value, &mut v, &what)?;
                    if v.len() != size {
                        return err(format!(
                            "{what} has {} entries, the parameter has {size}",
                            v.len()
                        ));
                    }
                    let buffer = out
                        .buffers
                        .entry(name.clone())
                        .or_insert_with(|| vec![BigRational::zero(); dim]);
                    buffer[range.clone()].clone_from_slice(&v);
                }
            }
        }
    }
    if has_mu {
        out.mu_product = mu_product;
    }
    out.group = group_of;
    Ok(out)
}

/// PyTorch's optimizer state as a safetensors file, converted to the JSON document of
/// [`parse_torch_state`].
///
/// Tensor names: `state.<i>.<buffer>` (`state.0.exp_avg`, `state.3.momentum_buffer`, ...)
/// with `<i>` the parameter index of the JSON layout, `state.<i>.step` and
/// `state.<i>.mu_product` scalars (shape `[]` or `[1]`). The file's metadata key
/// `param_groups`, when present, holds the JSON list `param_groups` of the JSON layout.
/// `float64`, `float32` and integer tensors are read exactly (an integer beyond `2^53`
/// is refused).
///
/// # Errors
/// [`StateError`] for an unreadable file, a tensor name outside this layout or bad
/// metadata.
pub fn safetensors_state_document(path: &std::path::Path) -> Result<Value, StateError> {
    let tensors = crate::io::tensors::read_safetensors(path)?;
    let bytes_meta = std::fs::read(path).ok().and_then(|b| {
        safetensors::SafeTensors::read_metadata(&b)
            .ok()
            .and_then(|(_, m)| m.metadata().as_ref()?.get("param_groups").cloned())
    });
    let mut state = serde_json::Map::new();
    for (name, tensor) in tensors {
        let parts: Vec<&str> = name.splitn(3, '.').collect();
        let [prefix, index, buffer] = parts.as_slice() else {
            return err(format!(
                "tensor {name:?}: expected state.<parameter index>.<buffer>"
            ));
        };
        if *prefix != "state" || index.parse::<usize>().is_err() || buffer.is_empty() {
            return err(format!(
                "tensor {name:?}: expected state.<parameter index>.<buffer>"
            ));
        }
        if !tensor.exact {
            return err(format!(
                "tensor {name:?}: an integer beyond 2^53 is not exact in f64"
            ));
        }
        let entry = state
            .entry(index.to_string())
            .or_insert_with(|| Value::Object(serde_json::Map::new()));
        let value = if matches!(*buffer, "step" | "mu_product") {
            let [x] = tensor.data.as_slice() else {
                return err(format!("tensor {name:?}: expected one number"));
            };
            serde_json::json!(x)
        } else {
            serde_json::json!(tensor.data)
        };
        entry
            .as_object_mut()
            .expect("inserted as an object")
            .insert(buffer.to_string(), value);
    }
    let mut doc = serde_json::json!({ "state": state });
    if let Some(text) = bytes_meta {
        let groups = crate::io::strict_json::parse(&text).map_err(StateError::Metadata)?;
        doc["param_groups"] = groups;
    }
    Ok(doc)
}

/// The hyperparameters of each parameter group of a state document (PyTorch's names:
/// `lr`, `momentum`, `betas`, `eps`, `weight_decay`, `alpha`, `centered`, `rho`,
/// `lr_decay`, `momentum_decay`), layered over `base` (the command line's flags): a flag
/// the user gave must agree with every group that states the value. Also refused:
/// `maximize`, `dampening != 0`, `decoupled_weight_decay`, and `amsgrad`/`nesterov`
/// disagreeing with the optimizer name. A document without `param_groups` gives `[base]`.
///
/// # Errors
/// [`StateError`] naming the group and key.
pub fn group_hyper(
    doc: &Value,
    base: &crate::optim::Hyper,
    kind: crate::optim::OptimizerKind,
) -> Result<Vec<crate::optim::Hyper>, StateError> {
    use crate::optim::OptimizerKind as K;
    let Some(groups) = doc.get("param_groups").and_then(Value::as_array) else {
        return Ok(vec![base.clone()]);
    };
    let number = |v: &Value, what: &str| -> Result<BigRational, StateError> {
        let text = match v {
            Value::Number(n) => match n.as_i64() {
                Some(i) => i.to_string(),
                None => format!("{}", n.as_f64().unwrap_or(f64::NAN)),
            },
            Value::String(s) => s.clone(),
            other => return err(format!("{what}: expected a number, got {other}")),
        };
        crate::scalar::parse_rational(&text).map_err(|source| StateError::Number {
            what: what.to_string(),
            source,
        })
    };
    let flag = |v: &Value, what: &str| -> Result<bool, StateError> {
        v.as_bool()
            .ok_or_else(|| StateError::Layout(format!("{what}: expected true or false")))
    };
    groups
        .iter()
        .enumerate()
        .map(|(g, group)| {
            let mut h = base.clone();
            let Some(obj) = group.as_object() else {
                return err(format!("param_groups[{g}] must be an object"));
            };
            let set = |slot: &mut Option<BigRational>, v: BigRational, key: &str| match slot {
                Some(given) if *given != v => err(format!(
                    "param_groups[{g}].{key} = {v} disagrees with the flag's {given}"
                )),
                _ => {
                    *slot = Some(v);
                    Ok(())
                }
            };
            for (key, value) in obj {
                let what = format!("param_groups[{g}].{key}");
                match key.as_str() {
                    "lr" => set(&mut h.lr, number(value, &what)?, key)?,
                    "momentum" => set(&mut h.momentum, number(value, &what)?, key)?,
                    "eps" => set(&mut h.eps, number(value, &what)?, key)?,
                    "weight_decay" => set(&mut h.weight_decay, number(value, &what)?, key)?,
                    "alpha" => set(&mut h.alpha, number(value, &what)?, key)?,
                    "rho" => set(&mut h.rho, number(value, &what)?, key)?,
                    "lr_decay" => set(&mut h.lr_decay, number(value, &what)?, key)?,
                    "momentum_decay" => set(&mut h.momentum_decay, number(value, &what)?, key)?,
                    "betas" => {
                        let pair = value.as_array().filter(|a| a.len() == 2).ok_or_else(|| {
                            StateError::Layout(format!("{what}: expected [beta1, beta2]"))
                        })?;
                        set(&mut h.beta1, number(&pair[0], &what)?, "betas[0]")?;
                        set(&mut h.beta2, number(&pair[1], &what)?, "betas[1]")?;
                    }
                    "centered" => {
                        let c = flag(value, &what)?;
                        if base.centered && !c {
                            return err(format!("{what} = false disagrees with --centered"));
                        }
                        h.centered = c;
                    }
                    "maximize" | "decoupled_weight_decay" if flag(value, &what).unwrap_or(true) => {
                        return err(format!("{what}: not modelled"));
                    }
                    "dampening" if !number(value, &what)?.is_zero() => {
                        return err(format!("{what}: only dampening 0 is modelled"));
                    }
                    "amsgrad"
                        if matches!(kind, K::Adam | K::Amsgrad)
                            && flag(value, &what)? != (kind == K::Amsgrad) =>
                    {
                        return err(format!("{what} disagrees with --optimizer {}", kind.name()));
                    }
                    "nesterov"
                        if matches!(kind, K::Sgd | K::Momentum | K::Nesterov)
                            && flag(value, &what)? != (kind == K::Nesterov) =>
                    {
                        return err(format!("{what} disagrees with --optimizer {}", kind.name()));
                    }
                    _ => {}
                }
            }
            Ok(h)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::error::Error;

    #[test]
    fn refusals_name_the_entry_and_keep_the_cause() {
        let arch = Arch::new(vec![1, 1, 1]).unwrap();
        let doc = json!({"state": {"0": {"step": 3, "exp_avg": [["1/0"]]}}});
        let e = parse_torch_state(&doc, &arch).unwrap_err();
        assert!(
            matches!(e, StateError::Entry { ref what, .. } if what == "state[0].exp_avg"),
            "{e}"
        );
        assert!(e.source().is_some_and(|s| s.is::<EntryError>()));
        let doc = json!({"state": {"0": {"step": 3, "exp_avg": [[1, 2]]}}});
        let e = parse_torch_state(&doc, &arch).unwrap_err();
        assert_eq!(
            e.to_string(),
            "optimizer state: state[0].exp_avg has 2 entries, the parameter has 1"
        );
        let doc = json!({"state": {}, "param_groups": [{"lr": "one"}]});
        let e = group_hyper(
            &doc,
            &crate::optim::Hyper::default(),
            crate::optim::OptimizerKind::Sgd,
        )
        .unwrap_err();
        assert!(
            matches!(e, StateError::Number { ref what, .. } if what == "param_groups[0].lr"),
            "{e}"
        );
        assert!(e.source().is_some_and(|s| s.is::<ScalarError>()));
        let missing = std::path::Path::new("/nonexistent/deadrelu/state.safetensors");
        let e = safetensors_state_document(missing).unwrap_err();
        assert!(matches!(e, StateError::File(TensorError::Io { .. })), "{e}");
    }
}
