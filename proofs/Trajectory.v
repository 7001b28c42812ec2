(* Facts 3 and 4 of MECHANISM.md along a whole training trajectory: a layer dead at
   step 0 stays dead at every step of any coordinate-frozen optimizer (Optimizers.v
   proves the nine optimizers are), the realization stays constant on the data, the risk
   never drops below V, the risk of the best constant; and if some parameter has risk
   below V, neither any iterate nor any limit of the trajectory is a global minimizer.
   Rust: audit::mechanism (run_optimizer checks these at every step), tests/audit.rs. *)

Require Import Reals List Lra Lia.
Require Import DeadRelu.Network DeadRelu.Mechanism.
Import ListNotations.
Open Scope R_scope.

(* ---------- the best constant (fact 4) ---------- *)

Fixpoint sumR (ys : list R) : R := match ys with [] => 0 | y :: t => y + sumR t end.
Fixpoint sumsq (ys : list R) : R := match ys with [] => 0 | y :: t => y * y + sumsq t end.
Fixpoint sq_dev (c : R) (ys : list R) : R := match ys with [] => 0 | y :: t => (c - y) * (c - y) + sq_dev c t end.

Definition mean (ys : list R) : R := sumR ys / INR (length ys).

Lemma sq_dev_expand : forall c ys, sq_dev c ys = INR (length ys) * (c * c) - 2 * c * sumR ys + sumsq ys.
Proof. intros c ys; induction ys as [|y ys IH]; simpl sq_dev; simpl length; [simpl; ring|]. rewrite S_INR, IH. simpl. ring. Qed.

(* The mean is the best constant: sum (c - y)^2 >= sum (mean - y)^2. *)
Theorem best_constant : forall c ys, ys <> [] -> sq_dev c ys >= sq_dev (mean ys) ys.
Proof.
  intros c ys Hne. rewrite !sq_dev_expand. unfold mean.
  assert (HM : 0 < INR (length ys)) by (destruct ys; [contradiction | simpl length; rewrite S_INR; pose proof (pos_INR (length ys)); lra]).
  set (M := INR (length ys)) in *. set (S1 := sumR ys). set (S2 := sumsq ys).
  assert (E : M * (c * c) - 2 * c * S1 + S2 - (M * (S1 / M * (S1 / M)) - 2 * (S1 / M) * S1 + S2) = (M * c - S1) * (M * c - S1) / M)
    by (field; lra).
  assert (0 <= (M * c - S1) * (M * c - S1) / M) by (apply Rmult_le_pos; [apply Rle_0_sqr | left; apply Rinv_0_lt_compat; exact HM]).
  lra.
Qed.

(* ---------- a training trajectory ---------- *)

Section Trajectory.

(* Data: inputs with scalar targets (l_L = 1; with several outputs the same holds
   coordinate by coordinate). *)
Variable data : list (list R * R).
Hypothesis data_nonempty : data <> [].
Definition inputs := map fst data.
Definition targets := map snd data.

(* theta n = (P_n, D_n, Q_n, Out_n): the layers before the watched layer, the watched
   layer, the layers after it, and the output layer. *)
Variable theta : nat -> (list layer * layer * list layer * layer).
Definition Pn n := fst (fst (fst (theta n))).
Definition Dn n := snd (fst (fst (theta n))).
Definition Qn n := snd (fst (theta n)).
Definition On n := snd (theta n).

(* The batch used at step n: non-empty, drawn from the data. *)
Variable batch : nat -> ((list R * list R) * list (list R * list R)).
Hypothesis batch_from_data : forall n, Forall (fun s => In (fst s) inputs) (fst (batch n) :: snd (batch n)).

(* The gradient of the batch at step n vanishes on the layers up to the watched one. *)
Definition gradient_vanishes (n : nat) : Prop :=
  Forall lgrad_zero (firstn (S (length (Pn n))) (fst (batch_grads (Pn n) (Qn n) (Dn n) (On n) (fst (batch n)) (snd (batch n))))).

(* Coordinate-frozen optimizer, at the level of the network: parameters whose gradient
   vanished at every step so far have not moved. Optimizers.v proves this coordinate by
   coordinate for SGD, momentum, Nesterov, Adagrad, RMSProp, Adam, AMSGrad, Adamax,
   NAdam (and Adadelta) with zero initial state and no weight decay. *)
Hypothesis coordinate_frozen_net :
  forall n, (forall i, (i <= n)%nat -> gradient_vanishes i) -> Pn (S n) = Pn 0 /\ Dn (S n) = Dn 0.

Hypothesis dead_at_start : dead_on (Pn 0) (Dn 0) inputs.

(* Fact 3: the watched layer is dead, and the layers up to it frozen, at every step. *)
Theorem stays_dead : forall n, Pn n = Pn 0 /\ Dn n = Dn 0 /\ dead_on (Pn n) (Dn n) inputs.
Proof.
  assert (All : forall n i, (i <= n)%nat -> Pn i = Pn 0 /\ Dn i = Dn 0).
  { induction n as [|n IH]; intros i Hi.
    - assert (i = 0%nat) by lia; subst; split; reflexivity.
    - destruct (Nat.le_gt_cases i n) as [Hle|Hgt]; [apply IH; exact Hle|].
      assert (i = S n) by lia; subst. apply coordinate_frozen_net.
      intros j Hj. destruct (IH j Hj) as [HP HD]. unfold gradient_vanishes.
      assert (Hdead : dead_on (Pn j) (Dn j) inputs) by (rewrite HP, HD; exact dead_at_start).
      exact (proj1 (frozen_gradient_batch (Pn j) (Qn j) (Dn j) (On j) inputs (fst (batch j)) (snd (batch j)) Hdead (batch_from_data j))). }
  intros n. destruct (All n n (le_n n)) as [HP HD]. repeat split; auto. rewrite HP, HD. exact dead_at_start.
Qed.

(* The (scalar) output of a parameter and its empirical risk. *)
Definition output (p : list layer * layer * list layer * layer) (x : list R) : R :=
  hd 0 (realize (fst (fst (fst p)) ++ snd (fst (fst p)) :: snd (fst p)) (snd p) x).

Fixpoint sq_err (p : list layer * layer * list layer * layer) (d : list (list R * R)) : R :=
  match d with [] => 0 | s :: t => (output p (fst s) - snd s) * (output p (fst s) - snd s) + sq_err p t end.

Definition risk p := sq_err p data / INR (length data).
Definition V := sq_dev (mean targets) targets / INR (length data).

(* Any parameter whose first layers are those of theta 0 (so the watched layer is dead on
   the data) has risk >= V. *)
Lemma risk_ge_V_of_dead : forall p, dead_on (fst (fst (fst p))) (snd (fst (fst p))) inputs -> risk p >= V.
Proof.
  intros [[[P D] Q] O] Hdead. simpl in Hdead. unfold risk, V.
  set (c := hd 0 (pre O (hidden Q (repeat 0 (length D))))).
  assert (E : forall d, incl (map fst d) inputs -> sq_err (P, D, Q, O) d = sq_dev c (map snd d)).
  { induction d as [|s d IH]; intros Hinc; simpl; [reflexivity|].
    unfold output; simpl. rewrite (constant_realization P Q D O (fst s)) by (apply Hdead, Hinc; left; reflexivity).
    fold c. rewrite IH by (intros z Hz; apply Hinc; right; exact Hz). ring. }
  rewrite (E data (incl_refl _)).
  assert (HM : 0 < INR (length data)) by (destruct data; [contradiction | simpl length; rewrite S_INR; pose proof (pos_INR (length l)); lra]).
  unfold Rdiv. apply Rmult_ge_compat_r; [left; apply Rinv_0_lt_compat; exact HM|].
  unfold targets. apply best_constant. destruct data; [contradiction | discriminate].
Qed.

(* Fact 4: the risk never drops below V along the trajectory. *)
Theorem risk_never_below_V : forall n, risk (theta n) >= V.
Proof. intros n. apply risk_ge_V_of_dead. destruct (stays_dead n) as [_ [_ H]]. exact H. Qed.

(* If some parameter beats V, no iterate is a global minimizer ... *)
Theorem no_iterate_is_global_minimizer : forall pstar, risk pstar < V -> forall n, risk pstar < risk (theta n).
Proof. intros pstar H n. pose proof (risk_never_below_V n). lra. Qed.

(* ... and neither is any limit: every limit of the trajectory keeps the frozen layers of
   theta 0 (a constant sequence converges only to its value), so its layer is dead too. *)
Lemma constant_sequence_limit : forall (u : nat -> R) c l, (forall n, u n = c) -> Un_cv u l -> l = c.
Proof.
  intros u c l Hc Hcv. destruct (Req_dec l c) as [E|NE]; [exact E|]. exfalso.
  destruct (Hcv (Rabs (c - l) / 2)) as [N HN].
  { apply Rdiv_lt_0_compat; [apply Rabs_pos_lt; lra | lra]. }
  specialize (HN N (le_n N)). unfold R_dist in HN. rewrite Hc in HN.
  pose proof (Rabs_pos_lt (c - l)). assert (c - l <> 0) by lra. specialize (H H0). lra.
Qed.

Theorem no_limit_is_global_minimizer : forall pstar plim,
  risk pstar < V -> fst (fst (fst plim)) = Pn 0 -> snd (fst (fst plim)) = Dn 0 -> risk pstar < risk plim.
Proof.
  intros pstar plim H HP HD. assert (risk plim >= V) by (apply risk_ge_V_of_dead; rewrite HP, HD; exact dead_at_start). lra.
Qed.

End Trajectory.
