//! Times the box decision (`activity::domain::decide_dead_on_box` and the branch and
//! bound of `activity::bab`) on seeded random networks:
//! `cargo run --release --example box_bab -- ARCH INIT BIAS K A B SEEDS [BUDGET [TIGHTEN [SPLITS]]]`
//! (TIGHTEN: off, crown or lp, the default; SPLITS: input, the default, or phase (no input
//! splits); ARCH may be an `.onnx` file, the network then),
//! e.g. `4,12,12,12,1 he-normal const:-1 3 -1 1 0..10`.
use deadrelu::activity::bab::{LpDecision, LpSettings, Tightening, decide_by_lp_with};
use deadrelu::io::onnx_import::read_onnx;
use deadrelu::net::init::{BiasInit, InitScheme, init_network};
use deadrelu::net::{Arch, Network};
use deadrelu::scalar::{BigRational, parse_rational};
use std::time::Instant;

fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    if a.len() < 7 {
        eprintln!("usage: box_bab ARCH INIT BIAS K A B SEEDS [BUDGET [TIGHTEN [SPLITS]]]");
        std::process::exit(2);
    }
    // an ONNX file instead of ARCH: that network, whatever INIT, BIAS and SEEDS say
    let onnx = a[0]
        .ends_with(".onnx")
        .then(|| read_onnx(std::path::Path::new(&a[0])).unwrap());
    let arch = match &onnx {
        Some((arch, _)) => arch.clone(),
        None => Arch::new(a[0].split(',').map(|s| s.parse().unwrap()).collect()).unwrap(),
    };
    let scheme: InitScheme = a[1].parse().unwrap();
    let bias: BiasInit = a[2].parse().unwrap();
    let k: usize = a[3].parse().unwrap();
    let lo = parse_rational(&a[4]).unwrap();
    let hi = parse_rational(&a[5]).unwrap();
    let (s0, s1) = a[6].split_once("..").unwrap();
    let budget: usize = a.get(7).map_or(20000, |b| b.parse().unwrap());
    let tightening = match a.get(8).map_or("lp", String::as_str) {
        "off" => Tightening::Off,
        "crown" => Tightening::Crown,
        _ => Tightening::CrownLp,
    };
    let input_splits = a.get(9).is_none_or(|s| s != "phase");
    let region: Vec<(BigRational, BigRational)> = vec![(lo, hi); arch.inputs()];
    for seed in s0.parse::<u64>().unwrap()..s1.parse::<u64>().unwrap() {
        let net = match &onnx {
            Some((arch, params)) => Network::new(arch.clone(), params.clone()).unwrap(),
            None => init_network::<BigRational>(&arch, &scheme, &bias, seed).unwrap(),
        };
        let t = Instant::now();
        let (d, stats) = decide_by_lp_with(
            &net,
            k,
            &region,
            LpSettings {
                budget,
                seed,
                progress: None,
                input_splits,
            },
            tightening,
        );
        let what = match &d {
            LpDecision::Dead(t) => format!("dead ({} leaves)", t.regions()),
            LpDecision::Alive { neuron, .. } => format!("alive (neuron {neuron})"),
            LpDecision::Unknown(why) => format!("unknown: {why}"),
        };
        println!(
            "seed {seed}: {what}; {:.3} s, {} nodes, {} LPs",
            t.elapsed().as_secs_f64(),
            stats.nodes,
            stats.lps
        );
    }
}
