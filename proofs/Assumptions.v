(* Prints the assumptions of the main theorems; the Makefile fails on anything beyond the
   axioms of Coq's standard real-number library. (AssumptionsClassic.v: the theorems about
   NAdam's PyTorch schedule, which also use Classical_Prop.classic through Coq's ln.) *)
Require Import DeadRelu.Network DeadRelu.Mechanism DeadRelu.Optimizers DeadRelu.Flat DeadRelu.Risk DeadRelu.Train DeadRelu.Gradient DeadRelu.Cert.

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
Print Assumptions flatten_unflatten.
Print Assumptions unflatten_flatten.
Print Assumptions unflatten_shaped.
Print Assumptions flatten_length.
Print Assumptions unflatten_prefix.
Print Assumptions net_grads_shaped.
Print Assumptions net_out_constant.
Print Assumptions net_grads_frozen.
Print Assumptions zero_layers_zero_prefix.
Print Assumptions best_constant.
Print Assumptions best_constant_vector.
Print Assumptions constant_on_data.
Print Assumptions risk_ge_V_of_dead.
Print Assumptions converges_limit_point.
Print Assumptions frozen_trains_dead.
Print Assumptions frozen_converges_dead.
Print Assumptions sgd_trains_dead.
Print Assumptions momentum_trains_dead.
Print Assumptions nesterov_trains_dead.
Print Assumptions adagrad_trains_dead.
Print Assumptions rmsprop_trains_dead.
Print Assumptions adam_trains_dead.
Print Assumptions amsgrad_trains_dead.
Print Assumptions adamax_trains_dead.
Print Assumptions nadam_trains_dead.
Print Assumptions adadelta_trains_dead.
Print Assumptions grads_directional_derivative.
Print Assumptions grads_partial_derivative.
Print Assumptions risk_partial_derivative.
Print Assumptions cert_sound.
