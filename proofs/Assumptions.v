(* Prints the assumptions of the main theorems; the Makefile fails on anything beyond the
   axioms of Coq's standard real-number library. *)
Require Import DeadRelu.Network DeadRelu.Mechanism DeadRelu.Optimizers DeadRelu.Trajectory.

Print Assumptions constant_realization.
Print Assumptions constant_on.
Print Assumptions frozen_gradient_sample.
Print Assumptions frozen_gradient_batch.
Print Assumptions sgd_frozen.
Print Assumptions momentum_frozen.
Print Assumptions nesterov_frozen.
Print Assumptions adagrad_frozen.
Print Assumptions rmsprop_frozen.
Print Assumptions adam_frozen.
Print Assumptions adamax_frozen.
Print Assumptions nadam_frozen.
Print Assumptions adadelta_frozen.
Print Assumptions weight_decay_not_frozen.
Print Assumptions best_constant.
Print Assumptions stays_dead.
Print Assumptions risk_never_below_V.
Print Assumptions no_iterate_is_global_minimizer.
Print Assumptions constant_sequence_limit.
Print Assumptions no_limit_is_global_minimizer.
