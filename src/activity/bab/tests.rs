use super::*;
use crate::net::Arch;
use crate::scalar::q;

fn net(widths: Vec<usize>, params: Vec<BigRational>) -> Network<BigRational> {
    Network::new(Arch::new(widths).unwrap(), params).unwrap()
}

fn settings(budget: usize) -> LpSettings<'static> {
    LpSettings {
        budget,
        seed: 7,
        progress: None,
        input_splits: true,
    }
}

/// z2 = relu(x) + relu(-x) - 3/4 = |x| - 3/4.
fn abs_net() -> Network<BigRational> {
    net(
        vec![1, 2, 1, 1],
        vec![
            q(1, 1),
            q(-1, 1),
            q(0, 1),
            q(0, 1),
            q(1, 1),
            q(1, 1),
            q(-3, 4),
            q(1, 1),
            q(0, 1),
        ],
    )
}

#[test]
fn alive_on_the_wide_box_dead_on_the_narrow_one() {
    let n = abs_net();
    match decide_by_lp(&n, 2, &[(q(-1, 1), q(1, 1))], settings(100)).0 {
        LpDecision::Alive { witness, value, .. } => {
            assert!(value.is_positive());
            assert_eq!(n.forward(&witness).pre[1][0], value);
        }
        other => panic!("{other:?}"),
    }
    match decide_by_lp(&n, 2, &[(q(-1, 2), q(1, 2))], settings(100)).0 {
        LpDecision::Dead(tree) => assert!(tree.regions() >= 1),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_bound_is_the_relaxations_and_multipliers_matter() {
    // on [-1/2, 1/2]: the triangle relaxation of |x| - 3/4 has maximum 1/2 - 3/4 = -1/4
    let n = abs_net();
    let region = [(q(-1, 2), q(1, 2))];
    let fnet = FloatNet::new(&n, 2, &region).unwrap();
    let fix = vec![vec![None, None]];
    let nb = node_bounds(&fnet, 2, &fix, None).unwrap().unwrap();
    assert_eq!(nb.z[0], vec![(-0.5, 0.5), (-0.5, 0.5)]);
    let rel = lp::relax(&fnet, 2, &fix, &nb);
    let problem = FloatProblem::new(&rel);
    let sol = problem.maximize(&rel.objectives[0]);
    assert!((sol.value + 0.25).abs() < 1e-6, "{}", sol.value);
    let ys = lp::prove(&rel, 0, &sol).expect("a proof");
    let bound = lp::safe_bound(&rel, &rel.objectives[0], &ys);
    assert!(bound <= 0.0 && bound > -0.26, "{bound}");
    // no multipliers: the bound over the variable box alone is 1/2 + 1/2 - 3/4 > 0
    let alone = lp::safe_bound(&rel, &rel.objectives[0], &[]);
    assert!((0.25..0.2500001).contains(&alone), "{alone}");
}

#[test]
fn an_empty_node_is_detected() {
    let n = abs_net();
    let region = [(q(1, 4), q(1, 2))];
    let fnet = FloatNet::new(&n, 2, &region).unwrap();
    // neuron 0 computes x >= 1/4 > 0: fixing it inactive leaves nothing
    match node_bounds(&fnet, 2, &[vec![Some(Phase::Inactive), None]], None) {
        Err((at, bounds)) => {
            assert_eq!(
                at,
                Contradiction {
                    layer: 1,
                    neuron: 0
                }
            );
            assert!(bounds.z.is_empty());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn maximum_exactly_zero_is_reported_not_guessed() {
    // relu(x) - relu(x): the maximum of layer 2 is exactly 0 on [-1, 1]
    let n = net(
        vec![1, 2, 1, 1],
        vec![
            q(1, 1),
            q(1, 1),
            q(0, 1),
            q(0, 1),
            q(1, 1),
            q(-1, 1),
            q(0, 1),
            q(1, 1),
            q(0, 1),
        ],
    );
    match decide_by_lp(&n, 2, &[(q(-1, 1), q(1, 1))], settings(100)).0 {
        LpDecision::Dead(_) | LpDecision::Unknown(_) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn optimized_slopes_are_never_worse_than_crowns() {
    use crate::net::init::{BiasInit, InitScheme, init_network};
    let arch = Arch::new(vec![3, 10, 10, 10, 1]).unwrap();
    let scheme: InitScheme = "he-normal".parse().unwrap();
    let bias: BiasInit = "const:-0.5".parse().unwrap();
    let region = vec![(q(-1, 1), q(1, 1)); 3];
    let mut better = 0;
    for seed in 0..8 {
        let n = init_network::<BigRational>(&arch, &scheme, &bias, seed).unwrap();
        let fnet = FloatNet::new(&n, 3, &region).unwrap();
        let fix: Vec<Vec<Option<Phase>>> = vec![vec![None; 10]; 2];
        let nb = node_bounds(&fnet, 3, &fix, None).unwrap().unwrap();
        let rel = lp::relax(&fnet, 3, &fix, &nb);
        let dense = alpha::Dense::new(&fnet, &rel, &nb);
        for objective in &rel.objectives {
            let (_, crown) = tighten::safe(&rel, objective, &tighten::crown(&rel, objective, &nb));
            let found = dense.optimize(objective, alpha::NODE_STEPS);
            let (ys, safe) = tighten::safe(&rel, objective, &found.multipliers);
            assert!(ys.iter().all(|&(_, y)| y > 0.0));
            // the safe bound of the optimized slopes is a bound (at most the float one
            // plus rounding) and no worse than CROWN's beyond rounding
            assert!(
                safe <= crown + 1e-9 * (1.0 + crown.abs()),
                "{safe} > {crown}"
            );
            assert!((safe - found.bound).abs() <= 1e-6 * (1.0 + safe.abs()));
            // the LP optimum is a lower limit for any multipliers
            let sol = FloatProblem::new(&rel).maximize(objective);
            assert!(sol.value <= safe + 1e-6, "{} > {safe}", sol.value);
            if safe < crown - 1e-9 {
                better += 1;
            }
        }
    }
    assert!(better > 0, "the slopes never improved on CROWN");
}
