//! The order of the Linear layers of a state_dict. A state_dict is a map from names to
//! tensors, so the order in which the network applies its layers is taken, in this
//! priority, from
//! 1. an explicit order: the command line's `--layer-order fc1,fc2,head`, or the file's
//!    metadata entry `layer_order` (`save_file(sd, path, metadata={"layer_order":
//!    "fc1,fc2,head"})`); it must name every module exactly once, and the two must agree
//!    when both are given;
//! 2. the module names, when all are one stem followed by a number (`0`, `2`, `4`;
//!    `net.0`, `net.2`; `fc1`, `fc2`, `fc10`): by that number;
//! 3. the shapes, when exactly one order chains them (each layer's `in` is the `out` of
//!    the layer before).
//!
//! Otherwise the file is refused with one line saying how to give the order.

/// Most steps of the search for chains before the order is called ambiguous.
const SEARCH_BUDGET: usize = 100_000;

/// How a refusal asks for the order (the Python package says `layer_order=` instead).
pub const ASK_FOR_ORDER: &str = "give it with --layer-order (input layer first), or store it in the file: save_file(..., metadata={\"layer_order\": \"...\"})";

/// Where an order came from, for the messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderSource {
    /// `--layer-order` or the `layer_order` metadata entry.
    Explicit,
    /// The numbers in the module names.
    Numbers,
    /// The only order in which the shapes chain.
    Shapes,
}

/// Why no layer order is found: each variant names the modules and, where it helps, how
/// to give the order ([`ASK_FOR_ORDER`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OrderError {
    /// `--layer-order` and the file's metadata `layer_order` name different orders.
    #[error("--layer-order {flag:?} contradicts the file's metadata layer_order {metadata:?}")]
    Contradiction {
        /// The flag's order, as given.
        flag: String,
        /// The metadata's order, as given.
        metadata: String,
    },
    /// An explicit order that does not name every module exactly once.
    #[error(
        "{origin} {text:?} must name each Linear module {names:?} exactly once: {}",
        why(unknown, missing, repeated)
    )]
    NotAPermutation {
        /// Where the order came from (`--layer-order` or the metadata entry).
        origin: &'static str,
        /// The order as given.
        text: String,
        /// The modules of the file.
        names: Box<[String]>,
        /// Names of the order that are no module.
        unknown: Box<[String]>,
        /// Modules the order leaves out.
        missing: Box<[String]>,
        /// Modules the order lists more than once.
        repeated: Box<[String]>,
    },
    /// The weights' shapes chain in no order.
    #[error(
        "the weights of modules {names:?} do not chain in any order (the inputs of each Linear must be the outputs of the one before)"
    )]
    NoChain {
        /// The modules.
        names: Vec<String>,
    },
    /// The names imply no order and the shapes chain in more than one.
    #[error(
        "modules {names:?}: the names do not imply a layer order (like 0, 2, 4 or fc1, fc2, fc3) and the shapes chain in more than one (e.g. {} and {}); {ask}",
        first.join(","),
        second.join(","),
        ask = ASK_FOR_ORDER
    )]
    Ambiguous {
        /// The modules.
        names: Vec<String>,
        /// One order in which the shapes chain.
        first: Vec<String>,
        /// Another one.
        second: Vec<String>,
    },
    /// The names imply no order and the search for chains ran out of its budget.
    #[error(
        "modules {names:?}: the names do not imply a layer order (like 0, 2, 4 or fc1, fc2, fc3) and too many orders are possible to decide from the shapes; {ask}",
        ask = ASK_FOR_ORDER
    )]
    TooManyOrders {
        /// The modules.
        names: Vec<String>,
    },
}

/// The reasons of [`OrderError::NotAPermutation`], comma-separated.
fn why(unknown: &[String], missing: &[String], repeated: &[String]) -> String {
    let mut why = Vec::new();
    if !unknown.is_empty() {
        why.push(format!("no module named {unknown:?}"));
    }
    if !missing.is_empty() {
        why.push(format!("{missing:?} not listed"));
    }
    if !repeated.is_empty() {
        why.push(format!("{repeated:?} listed twice"));
    }
    why.join(", ")
}

/// The explicit order, if any, from the flag and the file's metadata.
fn explicit_order<'a>(
    flag: Option<&'a str>,
    metadata: Option<&'a str>,
) -> Result<Option<(&'static str, &'a str)>, OrderError> {
    let split = |t: &str| -> Vec<String> { t.split(',').map(|s| s.trim().to_string()).collect() };
    match (flag, metadata) {
        (Some(f), Some(m)) if split(f) != split(m) => Err(OrderError::Contradiction {
            flag: f.to_string(),
            metadata: m.to_string(),
        }),
        (Some(f), _) => Ok(Some(("--layer-order", f))),
        (None, Some(m)) => Ok(Some(("the file's metadata layer_order", m))),
        (None, None) => Ok(None),
    }
}

/// The modules (name, `(out, in)` of its weight) in layer order, and where the order came
/// from.
///
/// # Errors
/// [`OrderError`]: one line naming the modules and how to state the order.
pub fn layer_order(
    modules: &[(String, (usize, usize))],
    flag: Option<&str>,
    metadata: Option<&str>,
) -> Result<(Vec<String>, OrderSource), OrderError> {
    let names: Vec<&str> = modules.iter().map(|(m, _)| m.as_str()).collect();
    if let Some((source, text)) = explicit_order(flag, metadata)? {
        let order: Vec<String> = text.split(',').map(|s| s.trim().to_string()).collect();
        let owned = |v: Vec<&str>| v.into_iter().map(str::to_string).collect::<Box<[_]>>();
        let unknown: Vec<&str> = order
            .iter()
            .map(String::as_str)
            .filter(|o| !names.contains(o))
            .collect();
        let missing: Vec<&str> = names
            .iter()
            .copied()
            .filter(|n| !order.iter().any(|o| o == n))
            .collect();
        let mut sorted = order.clone();
        sorted.sort();
        let repeated: Vec<&str> = sorted
            .windows(2)
            .filter(|w| w[0] == w[1])
            .map(|w| w[0].as_str())
            .collect();
        if !unknown.is_empty() || !missing.is_empty() || !repeated.is_empty() {
            return Err(OrderError::NotAPermutation {
                origin: source,
                text: text.to_string(),
                names: owned(names.clone()),
                unknown: owned(unknown),
                missing: owned(missing),
                repeated: owned(repeated),
            });
        }
        return Ok((order, OrderSource::Explicit));
    }
    if let Some(order) = numbered(&names) {
        return Ok((order, OrderSource::Numbers));
    }
    let shapes: Vec<(usize, usize)> = modules.iter().map(|(_, s)| *s).collect();
    let mut chains = Vec::new();
    let mut budget = SEARCH_BUDGET;
    let mut path = Vec::new();
    let mut used = vec![false; shapes.len()];
    search(&shapes, &mut path, &mut used, &mut chains, &mut budget);
    let chain = |c: &Vec<usize>| c.iter().map(|&i| names[i].to_string()).collect::<Vec<_>>();
    let names_owned = || names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
    match (chains.len(), budget) {
        (1, b) if b > 0 => Ok((chain(&chains[0]), OrderSource::Shapes)),
        (0, b) if b > 0 => Err(OrderError::NoChain {
            names: names_owned(),
        }),
        (n, _) if n >= 2 => Err(OrderError::Ambiguous {
            names: names_owned(),
            first: chain(&chains[0]),
            second: chain(&chains[1]),
        }),
        _ => Err(OrderError::TooManyOrders {
            names: names_owned(),
        }),
    }
}

/// `stem + number` for every name with one common stem: the names sorted by number.
fn numbered(names: &[&str]) -> Option<Vec<String>> {
    let mut stem: Option<&str> = None;
    let mut keyed = Vec::with_capacity(names.len());
    for &name in names {
        let digits = name.len() - name.trim_end_matches(|c: char| c.is_ascii_digit()).len();
        if digits == 0 {
            return None;
        }
        let (s, n) = name.split_at(name.len() - digits);
        if *stem.get_or_insert(s) != s {
            return None;
        }
        let n: u128 = n.parse().ok()?;
        keyed.push((n, name.to_string()));
    }
    keyed.sort();
    if keyed.windows(2).any(|w| w[0].0 == w[1].0) {
        return None;
    }
    Some(keyed.into_iter().map(|(_, n)| n).collect())
}

/// Depth-first search for orders in which the shapes chain; stops at two or when the
/// budget is spent.
fn search(
    shapes: &[(usize, usize)],
    path: &mut Vec<usize>,
    used: &mut [bool],
    chains: &mut Vec<Vec<usize>>,
    budget: &mut usize,
) {
    if chains.len() >= 2 || *budget == 0 {
        return;
    }
    *budget -= 1;
    if path.len() == shapes.len() {
        chains.push(path.clone());
        return;
    }
    for i in 0..shapes.len() {
        if used[i] || path.last().is_some_and(|&p| shapes[p].0 != shapes[i].1) {
            continue;
        }
        used[i] = true;
        path.push(i);
        search(shapes, path, used, chains, budget);
        path.pop();
        used[i] = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(list: &[(&str, (usize, usize))]) -> Vec<(String, (usize, usize))> {
        list.iter().map(|(n, s)| (n.to_string(), *s)).collect()
    }

    fn order(mods: &[(String, (usize, usize))], flag: Option<&str>) -> Vec<String> {
        layer_order(mods, flag, None).unwrap().0
    }

    #[test]
    fn names_shapes_flag_and_metadata_give_the_order() {
        // numbers, not text order: 10 after 2
        let mods = m(&[("net.10", (1, 4)), ("net.2", (4, 4)), ("net.0", (4, 1))]);
        assert_eq!(order(&mods, None), ["net.0", "net.2", "net.10"]);
        let mods = m(&[("fc2", (3, 4)), ("fc1", (4, 1)), ("fc3", (1, 3))]);
        assert_eq!(
            layer_order(&mods, None, None).unwrap(),
            (
                vec!["fc1".into(), "fc2".into(), "fc3".into()],
                OrderSource::Numbers
            )
        );
        // names imply nothing, shapes chain one way
        let mods = m(&[("head", (1, 3)), ("body", (3, 5)), ("stem", (5, 2))]);
        assert_eq!(
            layer_order(&mods, None, None).unwrap(),
            (
                vec!["stem".into(), "body".into(), "head".into()],
                OrderSource::Shapes
            )
        );
        // two square layers: ambiguous without an explicit order
        let mods = m(&[
            ("out", (1, 4)),
            ("a", (4, 4)),
            ("b", (4, 4)),
            ("inp", (4, 1)),
        ]);
        let e = layer_order(&mods, None, None).unwrap_err().to_string();
        assert!(
            e.contains("(e.g. out,inp,a,b and out,inp,b,a); give it with --layer-order"),
            "{e}"
        );
        assert_eq!(order(&mods, Some("inp, b,a,out")), ["inp", "b", "a", "out"]);
        assert_eq!(
            layer_order(&mods, None, Some("inp,a,b,out")).unwrap().0,
            ["inp", "a", "b", "out"]
        );
        // flag and metadata must agree
        let e = layer_order(&mods, Some("inp,b,a,out"), Some("inp,a,b,out"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("contradicts"), "{e}");
        let e = layer_order(&mods, Some("inp,a,out"), None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("[\"b\"] not listed"), "{e}");
        let e = layer_order(&mods, Some("inp,a,a,b,out"), None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("[\"a\"] listed twice"), "{e}");
        let e = layer_order(&mods, Some("inp,a,b,c,out"), None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("no module named [\"c\"]"), "{e}");
        // no chain at all
        let mods = m(&[("x", (2, 3)), ("y", (5, 7))]);
        assert_eq!(
            layer_order(&mods, None, None).unwrap_err(),
            OrderError::NoChain {
                names: vec!["x".into(), "y".into()]
            }
        );
    }

    #[test]
    fn many_equal_layers_are_ambiguous_without_searching_forever() {
        let mods: Vec<(String, (usize, usize))> =
            (0..40).map(|i| (format!("l{}x", i), (8, 8))).collect();
        let e = layer_order(&mods, None, None).unwrap_err().to_string();
        assert!(e.contains("more than one"), "{e}");
    }
}
