//! One way to compile a hot loop for the vector units the processor has.
//!
//! The lane loops ([`super::lanes`], [`super::trial_lanes`], [`super::montecarlo`]) are
//! written once, as plain `#[inline(always)]` Rust over arrays of eight lanes; the compiler
//! vectorizes them. [`simd_dispatch!`] compiles such a function again inside
//! `#[target_feature]` wrappers and picks, at run time, the first wrapper whose features
//! the processor has (else the plain version). Every variant is the same source, so they
//! compute bit-identical results (tests compare them).

/// Defines `fn NAME(ARGS) -> RET` that calls `GENERIC(ARGS)` compiled for the first
/// feature set the processor supports, plus one `#[target_feature]` function per set:
///
/// ```ignore
/// simd_dispatch! {
///     /// docs
///     pub fn keystreams(key: &[u32; 8], out: &mut [Words]) = blocks_generic;
///     blocks_avx512: ["avx512f", "avx512vl"], blocks_avx2: ["avx2"]
/// }
/// ```
/// On other architectures than x86_64 only the plain version exists.
macro_rules! simd_dispatch {
    (
        $(#[$meta:meta])*
        $vis:vis fn $name:ident($($arg:ident : $ty:ty),* $(,)?) $(-> $ret:ty)? = $generic:path;
        $($variants:tt)+
    ) => {
        $crate::stats::simd::simd_dispatch!(
            @variants [($($arg: $ty),*) ($($ret)?) $generic] $($variants)+
        );

        $(#[$meta])*
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            $crate::stats::simd::simd_dispatch!(@call ($($arg),*) $($variants)+);
            $generic($($arg),*)
        }
    };
    (@variants $sig:tt) => {};
    (@variants $sig:tt $variant:ident : [$($feature:tt),+] $(, $($rest:tt)*)?) => {
        $crate::stats::simd::simd_dispatch!(@variant $sig $variant [$($feature),+]);
        $($crate::stats::simd::simd_dispatch!(@variants $sig $($rest)*);)?
    };
    (
        @variant [($($arg:ident : $ty:ty),*) ($($ret:ty)?) $generic:path]
        $variant:ident [$($feature:tt),+]
    ) => {
        #[cfg(target_arch = "x86_64")]
        $(#[target_feature(enable = $feature)])+
        fn $variant($($arg: $ty),*) $(-> $ret)? {
            $generic($($arg),*)
        }
    };
    (@call $args:tt) => {};
    (@call $args:tt $variant:ident : [$($feature:tt),+] $(, $($rest:tt)*)?) => {
        #[cfg(target_arch = "x86_64")]
        {
            if true $(&& std::arch::is_x86_feature_detected!($feature))+ {
                // SAFETY: the processor supports every feature the variant is compiled
                // with, checked just above.
                return unsafe { $crate::stats::simd::simd_dispatch!(@apply $variant $args) };
            }
        }
        $($crate::stats::simd::simd_dispatch!(@call $args $($rest)*);)?
    };
    (@apply $variant:ident ($($arg:ident),*)) => {
        $variant($($arg),*)
    };
}

pub(crate) use simd_dispatch;
