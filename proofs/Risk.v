(* The empirical risk of MECHANISM.md with vector outputs, V (the risk of the best
   constant) and fact 4: a network dead on the data has risk >= V.
   R(theta) = (1/M) sum_m |N_theta(x_m) - y_m|^2, |.|^2 the squared Euclidean norm over
   the l_L outputs; V = (1/M) sum_m |y_m - ybar|^2 with ybar the mean target vector.
   Rust: Network::risk, Dataset::best_constant (src/data.rs), the audit's V. *)

Require Import Reals List Lra Lia.
Require Import DeadRelu.Network DeadRelu.Mechanism DeadRelu.Flat.
Import ListNotations.
Open Scope R_scope.

(* ---------- sums ---------- *)

Fixpoint sumR (ys : list R) : R := match ys with [] => 0 | y :: t => y + sumR t end.
Fixpoint sumsq (ys : list R) : R := match ys with [] => 0 | y :: t => y * y + sumsq t end.
Fixpoint sq_dev (c : R) (ys : list R) : R := match ys with [] => 0 | y :: t => (c - y) * (c - y) + sq_dev c t end.
(* sum_{j < n} f j *)
Fixpoint sumn (n : nat) (f : nat -> R) : R := match n with O => 0 | S m => sumn m f + f m end.

Definition mean (ys : list R) : R := sumR ys / INR (length ys).

Lemma sumR_zero : forall {A} (f : A -> R) l, (forall a, In a l -> f a = 0) -> sumR (map f l) = 0.
Proof. intros A f l H; induction l as [|a l IH]; simpl; [reflexivity|]. rewrite H, IH; [ring | intros; apply H; right; auto | left; reflexivity]. Qed.

Lemma sumR_ge : forall {A} (f g : A -> R) l, (forall a, In a l -> f a >= g a) -> sumR (map f l) >= sumR (map g l).
Proof.
  intros A f g l H; induction l as [|a l IH]; simpl; [lra|].
  assert (f a >= g a) by (apply H; left; reflexivity). assert (sumR (map f l) >= sumR (map g l)) by (apply IH; intros; apply H; right; auto). lra.
Qed.

Lemma sumn_ge : forall n f g, (forall j, (j < n)%nat -> f j >= g j) -> sumn n f >= sumn n g.
Proof.
  induction n as [|n IH]; intros f g H; simpl; [lra|].
  assert (f n >= g n) by (apply H; lia). assert (sumn n f >= sumn n g) by (apply IH; intros; apply H; lia). lra.
Qed.

Lemma sumn_plus : forall n f g, sumn n (fun j => f j + g j) = sumn n f + sumn n g.
Proof. induction n as [|n IH]; intros f g; simpl; [ring|]. rewrite IH. ring. Qed.

(* exchanging a sum over samples and a sum over outputs *)
Lemma sumR_sumn : forall {A} n (f : A -> nat -> R) l,
  sumR (map (fun a => sumn n (f a)) l) = sumn n (fun j => sumR (map (fun a => f a j) l)).
Proof.
  intros A n f l; induction l as [|a l IH]; simpl.
  - induction n as [|n IHn]; simpl; [reflexivity|]. rewrite <- IHn. ring.
  - rewrite IH, <- sumn_plus. reflexivity.
Qed.

(* ---------- the best constant, one coordinate ---------- *)

Lemma sq_dev_expand : forall c ys, sq_dev c ys = INR (length ys) * (c * c) - 2 * c * sumR ys + sumsq ys.
Proof. intros c ys; induction ys as [|y ys IH]; simpl sq_dev; simpl length; [simpl; ring|]. rewrite S_INR, IH. simpl. ring. Qed.

(* The mean is the best constant: sum (c - y)^2 >= sum (mean - y)^2. *)
Theorem best_constant : forall c ys, sq_dev c ys >= sq_dev (mean ys) ys.
Proof.
  intros c ys. destruct ys as [|y0 ys0] eqn:Eys; [simpl; lra|]. rewrite <- Eys.
  rewrite !sq_dev_expand. unfold mean.
  assert (HM : 0 < INR (length ys)) by (rewrite Eys; simpl length; rewrite S_INR; pose proof (pos_INR (length ys0)); lra).
  set (M := INR (length ys)) in *. set (S1 := sumR ys). set (S2 := sumsq ys).
  assert (E : M * (c * c) - 2 * c * S1 + S2 - (M * (S1 / M * (S1 / M)) - 2 * (S1 / M) * S1 + S2) = (M * c - S1) * (M * c - S1) / M)
    by (field; lra).
  assert (0 <= (M * c - S1) * (M * c - S1) / M) by (apply Rmult_le_pos; [apply Rle_0_sqr | left; apply Rinv_0_lt_compat; exact HM]).
  lra.
Qed.

(* ---------- vector outputs ---------- *)

Definition sample := (list R * list R)%type.

(* |o - y|^2 over the first l coordinates (l = l_L, the number of outputs) *)
Definition sqerr (l : nat) (o y : list R) : R := sumn l (fun j => (nth j o 0 - nth j y 0) * (nth j o 0 - nth j y 0)).

Definition n_out (arch : list nat) : nat := last arch 0%nat.

(* the empirical risk of the network Ls on the data: the mean of the samples' losses *)
Definition risk (arch : list nat) (Ls : list layer) (data : list sample) : R :=
  sumR (map (fun s => sqerr (n_out arch) (net_out Ls (fst s)) (snd s)) data) / INR (length data).

Definition column (j : nat) (data : list sample) : list R := map (fun s => nth j (snd s) 0) data.
Definition ymean (arch : list nat) (data : list sample) : list R := map (fun j => mean (column j data)) (seq 0 (n_out arch)).

(* V: the risk of the best constant, the mean target vector *)
Definition V (arch : list nat) (data : list sample) : R :=
  sumR (map (fun s => sqerr (n_out arch) (ymean arch data) (snd s)) data) / INR (length data).

Lemma sq_dev_column : forall c j (data : list sample),
  sumR (map (fun s => (c - nth j (snd s) 0) * (c - nth j (snd s) 0)) data) = sq_dev c (column j data).
Proof. intros c j data; induction data as [|s data IH]; simpl; [reflexivity|]. rewrite IH. reflexivity. Qed.

(* The mean target vector is the best constant for the vector loss. *)
Theorem best_constant_vector : forall arch data c,
  sumR (map (fun s => sqerr (n_out arch) c (snd s)) data) >= sumR (map (fun s => sqerr (n_out arch) (ymean arch data) (snd s)) data).
Proof.
  intros arch data c. unfold sqerr. rewrite !(sumR_sumn (n_out arch)). apply sumn_ge. intros j Hj.
  rewrite !(sq_dev_column _ j data). unfold ymean. rewrite nth_map_seq by exact Hj. apply best_constant.
Qed.

Lemma div_ge_compat : forall a b n, a >= b -> a / INR n >= b / INR n.
Proof.
  intros a b n H. destruct n as [|n].
  - simpl. unfold Rdiv. rewrite Rinv_0. lra.
  - unfold Rdiv. apply Rmult_ge_compat_r; [|exact H]. left. apply Rinv_0_lt_compat. apply lt_0_INR. lia.
Qed.

Definition dead_on_data (k : nat) (Ls : list layer) (data : list sample) : Prop :=
  forall s, In s data -> layer_dead k Ls (fst s).

(* Fact 1 for the data: the realization is one constant on the data *)
Theorem constant_on_data : forall Ls k data, (1 <= k < length Ls)%nat -> dead_on_data k Ls data ->
  exists c, forall s, In s data -> net_out Ls (fst s) = c.
Proof.
  intros Ls k data Hk Hd. eexists. intros s Hs. apply net_out_constant; [exact Hk | apply Hd; exact Hs].
Qed.

(* Fact 4: a network with a layer dead on the data has risk >= V *)
Theorem risk_ge_V_of_dead : forall arch Ls k data, (1 <= k < length Ls)%nat -> dead_on_data k Ls data ->
  risk arch Ls data >= V arch data.
Proof.
  intros arch Ls k data Hk Hd. destruct (constant_on_data Ls k data Hk Hd) as [c Hc].
  unfold risk, V. apply div_ge_compat.
  rewrite (map_ext_in _ (fun s => sqerr (n_out arch) c (snd s))) by (intros s Hs; rewrite Hc by exact Hs; reflexivity).
  apply best_constant_vector.
Qed.
