//! Cooperative cancellation (`deadrelu::cancel`, issue 17): a request stops a run in
//! progress at its next cancellation point, through rayon's workers and the long loops of
//! the library, and nothing else. Its own test binary: a request is process-wide, so no
//! other test may run beside it.

use deadrelu::cancel::{Cancelled, point, request, requested, run};
use std::panic::resume_unwind;
use std::time::{Duration, Instant};

/// Runs `work` on a worker inside `run`, requests a stop after `after`, and returns the
/// result and how long the stop took.
fn stop_after<R: Send + 'static>(
    after: Duration,
    work: impl FnOnce() -> R + Send + 'static,
) -> (Result<R, Cancelled>, Duration) {
    let (tx, rx) = std::sync::mpsc::channel();
    let worker = std::thread::spawn(move || {
        run(|| {
            tx.send(()).unwrap();
            work()
        })
    });
    rx.recv().unwrap();
    std::thread::sleep(after);
    let t = Instant::now();
    request();
    let r = worker.join().unwrap();
    (r, t.elapsed())
}

#[test]
fn a_request_stops_runs_in_progress_only() {
    // no run in progress: nothing to stop, the flag stays down
    request();
    assert!(!requested());
    point();
    // rayon workers unwind too, and the payload reaches the caller (coarse work items:
    // each item left unwinds once, about 35 us each, so fine-grained parallel loops check
    // `requested()` and return early instead)
    let (r, took) = stop_after(Duration::from_millis(20), || {
        use rayon::prelude::*;
        let start = Instant::now();
        (0..1000u64).into_par_iter().for_each(|_| {
            point();
            assert!(start.elapsed() < Duration::from_secs(60), "never stopped");
            std::thread::sleep(Duration::from_millis(10));
        });
        7
    });
    assert_eq!(r, Err(Cancelled));
    assert!(took < Duration::from_secs(1), "{took:?}");
    // served: the next run runs to the end
    assert!(!requested());
    assert_eq!(run(|| 5), Ok(5));
    // other panics go on unchanged
    let other = std::panic::catch_unwind(|| run(|| resume_unwind(Box::new(3u8))));
    assert_eq!(other.unwrap_err().downcast_ref::<u8>(), Some(&3));

    // the library's long loops: training steps (10^10 steps of SGD take hours)
    use deadrelu::data::Dataset;
    use deadrelu::net::{Arch, Network};
    use deadrelu::optim::SgdConfig;
    use deadrelu::optim::train::{TrainConfig, train};
    let params = vec![0.5, -0.25, 0.125, 0.2, 0.0, -0.1, 0.75, 1.0, -0.5, 0.125];
    let net = Network::new(Arch::new(vec![1, 3, 1]).unwrap(), params).unwrap();
    let data = Dataset::<f64>::from_rows(
        (0..9).map(|i| vec![f64::from(i - 4) / 4.0]).collect(),
        (0..9).map(|i| vec![f64::from(i - 4).abs() / 4.0]).collect(),
    )
    .unwrap();
    let (r, took) = stop_after(Duration::from_millis(200), move || {
        let opt = SgdConfig::<f64>::new();
        let config = TrainConfig {
            steps: 10_000_000_000,
            batch: None,
            batch_seed: 0,
        };
        train(&net, &data, &opt, &config, None, |_| {}).map(|r| r.risk_final)
    });
    assert!(r.is_err(), "{r:?}");
    assert!(took < Duration::from_secs(1), "{took:?}");
}
