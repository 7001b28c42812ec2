(* Fact 3 of MECHANISM.md, per coordinate: SGD, momentum, Nesterov, Adagrad, RMSProp
   (centered or not, with or without momentum), Adam, AMSGrad, Adamax, NAdam (and
   Adadelta) with zero initial state and no weight decay are coordinate-frozen: a
   coordinate whose gradient was zero at every step so far has never moved. Weight decay
   breaks this. The update rules are PyTorch's (torch.optim), as in src/optim/*.rs; the
   theorems hold for all real hyperparameters, a superset of PyTorch's range.
   About eps: in Coq's R, x / 0 = 0 (Rinv 0 = 0), so the proofs go through even with
   eps = 0. That is a convention of R, not of the optimizers: in IEEE floats a frozen
   coordinate of Adam, AMSGrad, NAdam, RMSProp or Adagrad with eps = 0 computes
   0 / (sqrt 0 + 0) = 0 / 0 = NaN and the parameter becomes NaN (PyTorch accepts
   eps = 0). For the floating-point optimizers the theorems therefore transfer only with
   eps > 0, where every denominator of a frozen coordinate is >= eps > 0 and the update
   is exactly 0 (Adadelta with eps = 0 likewise divides 0 by 0). Rust: tests/optimizers.rs
   (frozen_property_*, weight_decay_breaks_the_frozen_property). *)

Require Import Reals Lra Lia.
Open Scope R_scope.

(* A per-coordinate optimizer: a state, its initial value, and a step taking the step
   number t (1-based), the state, the coordinate and its gradient. *)
Record coord_opt := {
  state : Type;
  init : state;
  step : nat -> state -> R -> R -> state * R
}.

Fixpoint run (o : coord_opt) (g : nat -> R) (theta0 : R) (n : nat) : state o * R :=
  match n with
  | O => (init o, theta0)
  | S k => let r := run o g theta0 k in step o (S k) (fst r) (snd r) (g k)
  end.

Definition coordinate_frozen (o : coord_opt) : Prop :=
  forall g theta0 n, (forall i, (i < n)%nat -> g i = 0) -> snd (run o g theta0 n) = theta0.

(* The proof pattern: an invariant of the state under zero gradients. *)
Lemma frozen_of_invariant : forall (o : coord_opt) (Inv : state o -> Prop),
  Inv (init o) ->
  (forall t s th, Inv s -> Inv (fst (step o t s th 0)) /\ snd (step o t s th 0) = th) ->
  coordinate_frozen o.
Proof.
  intros o Inv H0 Hstep g theta0 n Hg.
  assert (forall k, (k <= n)%nat -> Inv (fst (run o g theta0 k)) /\ snd (run o g theta0 k) = theta0) as H.
  { induction k as [|k IH]; intros Hk; simpl; [split; auto|].
    destruct IH as [Hi Ht]; [lia|]. rewrite (Hg k) by lia.
    destruct (Hstep (S k) (fst (run o g theta0 k)) (snd (run o g theta0 k)) Hi) as [A B].
    split; [exact A | rewrite B; exact Ht]. }
  apply (H n (le_n n)).
Qed.

Ltac frozen_step := intros; simpl in *; repeat split; try (subst; lra); try (subst; field_simplify; lra).

(* ---------- the optimizers ---------- *)

Section Optimizers.
Variables (lr mu alpha beta1 beta2 eps lr_decay psi rho wd : R).

(* SGD: theta <- theta - lr g *)
Definition sgd : coord_opt := {| state := unit; init := tt; step := fun _ s th g => (s, th - lr * g) |}.

(* momentum (PyTorch, dampening 0): b <- g at t = 1, b <- mu b + g later; theta <- theta - lr b;
   Nesterov: theta <- theta - lr (g + mu b) *)
Definition momentum_buf (t : nat) (b g : R) : R := match t with 1%nat => g | _ => mu * b + g end.
Definition momentum : coord_opt :=
  {| state := R; init := 0; step := fun t b th g => let b' := momentum_buf t b g in (b', th - lr * b') |}.
Definition nesterov : coord_opt :=
  {| state := R; init := 0; step := fun t b th g => let b' := momentum_buf t b g in (b', th - lr * (g + mu * b')) |}.

(* Adagrad: s <- s + g^2; theta <- theta - lr / (1 + (t-1) lr_decay) * g / (sqrt s + eps) *)
Definition adagrad : coord_opt :=
  {| state := R; init := 0;
     step := fun t s th g => let s' := s + g * g in
       (s', th - lr / (1 + (INR t - 1) * lr_decay) * g / (sqrt s' + eps)) |}.

(* RMSProp: v <- alpha v + (1 - alpha) g^2; centered: ga <- alpha ga + (1-alpha) g, vt = v - ga^2;
   d = g / (sqrt vt + eps); with momentum: b <- mu b + d, theta <- theta - lr b; else theta <- theta - lr d *)
Definition rmsprop (centered use_momentum : bool) : coord_opt :=
  {| state := (R * R * R)%type; init := (0, 0, 0);
     step := fun _ s th g =>
       let '(v, ga, b) := s in
       let v' := alpha * v + (1 - alpha) * (g * g) in
       let ga' := alpha * ga + (1 - alpha) * g in
       let vt := if centered then v' - ga' * ga' else v' in
       let d := g / (sqrt vt + eps) in
       let b' := mu * b + d in
       ((v', ga', b'), th - lr * (if use_momentum then b' else d)) |}.

(* Adam / AMSGrad (max on the uncorrected v, as current PyTorch):
   m <- b1 m + (1-b1) g; v <- b2 v + (1-b2) g^2; w = v or vmax <- max(vmax, v);
   theta <- theta - lr / (1 - b1^t) * m / (sqrt w / sqrt (1 - b2^t) + eps) *)
Definition adam (amsgrad : bool) : coord_opt :=
  {| state := (R * R * R)%type; init := (0, 0, 0);
     step := fun t s th g =>
       let '(m, v, vmax) := s in
       let m' := beta1 * m + (1 - beta1) * g in
       let v' := beta2 * v + (1 - beta2) * (g * g) in
       let vmax' := Rmax vmax v' in
       let w := if amsgrad then vmax' else v' in
       ((m', v', vmax'), th - lr / (1 - beta1 ^ t) * m' / (sqrt w / sqrt (1 - beta2 ^ t) + eps)) |}.

(* Adamax: m <- b1 m + (1-b1) g; u <- max(b2 u, |g| + eps); theta <- theta - lr/(1-b1^t) * m / u *)
Definition adamax : coord_opt :=
  {| state := (R * R)%type; init := (0, 0);
     step := fun t s th g =>
       let '(m, u) := s in
       let m' := beta1 * m + (1 - beta1) * g in
       let u' := Rmax (beta2 * u) (Rabs g + eps) in
       ((m', u'), th - lr / (1 - beta1 ^ t) * m' / u') |}.

(* NAdam: mu_t = b1 (1 - 0.5 * 0.96^(t psi)); P <- P mu_t; m, v as Adam; d = sqrt(v/(1-b2^t)) + eps;
   theta <- theta - lr (1-mu_t)/(1-P) g/d - lr mu_{t+1}/(1 - P mu_{t+1}) m/d.
   The theorem below holds for every momentum schedule mu; PyTorch's is nadam_mu_pytorch. *)
Definition nadam_mu_pytorch (t : nat) : R := beta1 * (1 - / 2 * Rpower (96 / 100) (INR t * psi)).
Definition nadam (nadam_mu : nat -> R) : coord_opt :=
  {| state := (R * R * R)%type; init := (0, 0, 1);
     step := fun t s th g =>
       let '(m, v, prod) := s in
       let prod' := prod * nadam_mu t in
       let m' := beta1 * m + (1 - beta1) * g in
       let v' := beta2 * v + (1 - beta2) * (g * g) in
       let d := sqrt (v' / (1 - beta2 ^ t)) + eps in
       ((m', v', prod'),
        th - lr * (1 - nadam_mu t) / (1 - prod') * g / d
           - lr * nadam_mu (S t) / (1 - prod' * nadam_mu (S t)) * m' / d) |}.

(* Adadelta: v <- rho v + (1-rho) g^2; delta = sqrt(u + eps)/sqrt(v + eps) g;
   u <- rho u + (1-rho) delta^2; theta <- theta - lr delta *)
Definition adadelta : coord_opt :=
  {| state := (R * R)%type; init := (0, 0);
     step := fun _ s th g =>
       let '(v, u) := s in
       let v' := rho * v + (1 - rho) * (g * g) in
       let delta := sqrt (u + eps) / sqrt (v' + eps) * g in
       ((v', rho * u + (1 - rho) * (delta * delta)), th - lr * delta) |}.

(* SGD with weight decay: g <- g + wd theta *)
Definition sgd_weight_decay : coord_opt :=
  {| state := unit; init := tt; step := fun _ s th g => (s, th - lr * (g + wd * th)) |}.

(* ---------- the theorems ---------- *)

Lemma div_0_l : forall d, 0 / d = 0.
Proof. intros d. unfold Rdiv. apply Rmult_0_l. Qed.

Theorem sgd_frozen : coordinate_frozen sgd.
Proof. apply (frozen_of_invariant sgd (fun _ => True)); [exact I|]. intros; simpl; split; [exact I | lra]. Qed.

Lemma momentum_buf_zero : forall t, momentum_buf t 0 0 = 0.
Proof. intros [|[|t]]; simpl; lra. Qed.

Theorem momentum_frozen : coordinate_frozen momentum.
Proof.
  apply (frozen_of_invariant momentum (fun b => b = 0)); [reflexivity|].
  intros t b th Hb; simpl; subst; rewrite momentum_buf_zero; split; [reflexivity | lra].
Qed.

Theorem nesterov_frozen : coordinate_frozen nesterov.
Proof.
  apply (frozen_of_invariant nesterov (fun b => b = 0)); [reflexivity|].
  intros t b th Hb; simpl; subst; rewrite momentum_buf_zero; split; [reflexivity | lra].
Qed.

Theorem adagrad_frozen : coordinate_frozen adagrad.
Proof.
  apply (frozen_of_invariant adagrad (fun _ => True)); [exact I|].
  intros t s th _; simpl; split; [exact I|]. rewrite Rmult_0_r, div_0_l. lra.
Qed.

Theorem rmsprop_frozen : forall centered use_momentum, coordinate_frozen (rmsprop centered use_momentum).
Proof.
  intros centered use_momentum.
  apply (frozen_of_invariant (rmsprop centered use_momentum) (fun s => snd s = 0)); [reflexivity|].
  intros t [[v ga] b] th Hb; simpl in *; subst. rewrite div_0_l.
  split; [lra|]. destruct use_momentum; lra.
Qed.

Theorem adam_frozen : forall amsgrad, coordinate_frozen (adam amsgrad).
Proof.
  intros amsgrad.
  apply (frozen_of_invariant (adam amsgrad) (fun s => fst (fst s) = 0)); [reflexivity|].
  intros t [[m v] vmax] th Hm; simpl in *; subst.
  replace (beta1 * 0 + (1 - beta1) * 0) with 0 by ring.
  split; [reflexivity|]. unfold Rdiv. lra.
Qed.

Theorem adamax_frozen : coordinate_frozen adamax.
Proof.
  apply (frozen_of_invariant adamax (fun s => fst s = 0)); [reflexivity|].
  intros t [m u] th Hm; simpl in *; subst.
  replace (beta1 * 0 + (1 - beta1) * 0) with 0 by ring.
  split; [reflexivity|]. unfold Rdiv. lra.
Qed.

Theorem nadam_frozen : forall nadam_mu, coordinate_frozen (nadam nadam_mu).
Proof.
  intros nadam_mu.
  apply (frozen_of_invariant (nadam nadam_mu) (fun s => fst (fst s) = 0)); [reflexivity|].
  intros t [[m v] prod] th Hm; simpl in *; subst.
  replace (beta1 * 0 + (1 - beta1) * 0) with 0 by ring.
  split; [reflexivity|]. unfold Rdiv. lra.
Qed.

(* PyTorch's schedule uses Rpower = exp (y ln x), and the standard library's definition
   of ln (Rpower.v) rests on Classical_Prop.classic, so this corollary (and
   nadam_pytorch_trains_dead) uses classic: AssumptionsClassic.v prints it and the
   Makefile allows exactly that axiom there. nadam_frozen, for every schedule, does not. *)
Corollary nadam_pytorch_frozen : coordinate_frozen (nadam nadam_mu_pytorch).
Proof. apply nadam_frozen. Qed.

Theorem adadelta_frozen : coordinate_frozen adadelta.
Proof.
  apply (frozen_of_invariant adadelta (fun _ => True)); [exact I|].
  intros t [v u] th _; simpl; split; [exact I|]. lra.
Qed.

(* Weight decay breaks the property: with lr * wd <> 0 the coordinate 1 moves at once. *)
Theorem weight_decay_not_frozen : lr * wd <> 0 -> ~ coordinate_frozen sgd_weight_decay.
Proof.
  intros Hne Hfrozen.
  specialize (Hfrozen (fun _ => 0) 1 1%nat (fun i _ => eq_refl)). simpl in Hfrozen.
  apply Hne. lra.
Qed.

End Optimizers.
