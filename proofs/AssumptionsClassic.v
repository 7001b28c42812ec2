(* The theorems about NAdam's PyTorch momentum schedule mu_t = beta1 (1 - 0.96^(t psi) / 2).
   The schedule uses Rpower, i.e. Coq's ln, whose definition in the standard library
   (Rpower.v) rests on Classical_Prop.classic; the Makefile allows exactly that axiom
   here, on top of the standard reals' axioms. nadam_frozen and nadam_trains_dead (in
   Assumptions.v) hold for every schedule and do not use it. *)
Require Import DeadRelu.Optimizers DeadRelu.Train.

Print Assumptions nadam_pytorch_frozen.
Print Assumptions nadam_pytorch_trains_dead.
