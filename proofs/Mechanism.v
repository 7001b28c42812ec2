(* Facts 1 and 2 of MECHANISM.md: a hidden layer dead on a set S makes the realization
   constant on S, and makes the generalized gradient of the loss of every sample from S
   (hence of every batch from S) zero in every parameter of the layers up to it and in
   the weights of the next layer. Rust: activity::activity_on_data, Network::output,
   Network::risk_and_gradient; tests/core_exact.rs (dead_layer_freezes_gradient). *)

Require Import Reals List Lra.
Require Import DeadRelu.Network.
Import ListNotations.
Open Scope R_scope.

Section Dead.

Variables (P Q : list layer) (D Out : layer).

(* Layer D (after the prefix P) is dead at x: every pre-activation is <= 0. *)
Definition dead_at (x : list R) : Prop := Forall (fun z => z <= 0) (pre D (hidden P x)).
Definition dead_on (S : list (list R)) : Prop := forall x, In x S -> dead_at x.

Lemma map_relu_nonpos : forall l, Forall (fun z => z <= 0) l -> map relu l = repeat 0 (length l).
Proof.
  intros l H; induction H; simpl; [reflexivity|]. rewrite relu_nonpos by assumption. f_equal; auto.
Qed.

Lemma map_relu'_nonpos : forall l, Forall (fun z => z <= 0) l -> all_zero (map relu' l).
Proof.
  unfold all_zero; intros l H; induction H; simpl; constructor; auto. apply relu'_nonpos; auto.
Qed.

Lemma pre_length : forall L x, length (pre L x) = length L.
Proof. intros; unfold pre; apply map_length. Qed.

(* Fact 1: the realization is the same constant at every point where D is dead. *)
Theorem constant_realization :
  forall x, dead_at x -> realize (P ++ D :: Q) Out x = pre Out (hidden Q (repeat 0 (length D))).
Proof.
  intros x H. unfold realize. rewrite hidden_app. simpl. unfold act at 1.
  rewrite (map_relu_nonpos _ H), pre_length. reflexivity.
Qed.

Corollary constant_on :
  forall Sx x x', dead_on Sx -> In x Sx -> In x' Sx -> realize (P ++ D :: Q) Out x = realize (P ++ D :: Q) Out x'.
Proof.
  intros Sx x x' H Hx Hx'. rewrite (constant_realization x (H x Hx)), (constant_realization x' (H x' Hx')). reflexivity.
Qed.

(* The gradient of the layer right after D: the first of Q, or the output layer. *)
Definition next_weights_zero (rest : list lgrad) (gout : lgrad) : Prop :=
  match Q with
  | [] => lgrad_weights_zero gout
  | _ => match rest with g :: _ => lgrad_weights_zero g | [] => False end
  end.

Lemma zipmul_zero_r : forall u v, all_zero v -> all_zero (zipmul u v).
Proof.
  unfold all_zero; induction u as [|a u IH]; intros v H; destruct v; simpl; constructor.
  - apply Forall_inv in H. cbv beta in *. subst. lra.
  - apply IH. exact (Forall_inv_tail H).
Qed.

Lemma all_zero_repeat_0 : forall n, all_zero (repeat 0 n).
Proof. apply all_zero_repeat. Qed.

(* The first layer's gradient when its input is zero has zero weights. *)
Lemma grads_zero_input : forall y a, all_zero a ->
  next_weights_zero (fst (fst (grads Q Out a y))) (snd (fst (grads Q Out a y))).
Proof.
  intros y a Ha. unfold next_weights_zero. destruct Q as [|L Q'] eqn:EQ; simpl.
  - apply layer_grad_weights_zero; auto.
  - destruct (grads Q' Out (map relu (pre L a)) y) as [[gs gout] da]. simpl.
    apply layer_grad_weights_zero; auto.
Qed.

(* Fact 2, for one sample (x, y) with D dead at x. *)
Theorem frozen_gradient_sample : forall x y, dead_at x ->
  let r := grads (P ++ D :: Q) Out x y in
  Forall lgrad_zero (firstn (S (length P)) (fst (fst r)))
  /\ next_weights_zero (skipn (S (length P)) (fst (fst r))) (snd (fst r))
  /\ all_zero (snd r).
Proof.
  unfold dead_at. induction P as [|L P' IH]; intros x y Hdead; simpl in *.
  - destruct (grads Q Out (map relu (pre D x)) y) as [[gs gout] da] eqn:E. simpl.
    assert (Hz : all_zero (zipmul (map relu' (pre D x)) da))
      by (apply zipmul_zero_l, map_relu'_nonpos; exact Hdead).
    split; [|split].
    + constructor; [apply layer_grad_zero; exact Hz | constructor].
    + pose proof (grads_zero_input y (map relu (pre D x))) as G.
      rewrite E in G. simpl in G. apply G.
      rewrite (map_relu_nonpos _ Hdead). apply all_zero_repeat.
    + apply backvec_zero; exact Hz.
  - specialize (IH (act L x) y Hdead).
    unfold act in IH.
    destruct (grads (P' ++ D :: Q) Out (map relu (pre L x)) y) as [[gs gout] da] eqn:E. simpl in *.
    destruct IH as [H1 [H2 H3]].
    assert (Hz : all_zero (zipmul (map relu' (pre L x)) da)) by (apply zipmul_zero_r; exact H3).
    split; [|split].
    + constructor; [apply layer_grad_zero; exact Hz | exact H1].
    + exact H2.
    + apply backvec_zero; exact Hz.
Qed.

(* ---------- batches: the gradient of a batch is the sum of the samples' ---------- *)

Definition ladd (g h : lgrad) : lgrad :=
  map (fun p => (vadd (fst (fst p)) (fst (snd p)), snd (fst p) + snd (snd p))) (combine g h).

Fixpoint gsum (gs hs : list lgrad) : list lgrad :=
  match gs, hs with
  | g :: gs', h :: hs' => ladd g h :: gsum gs' hs'
  | _, _ => []
  end.

Lemma ladd_zero : forall g h, lgrad_zero g -> lgrad_zero h -> lgrad_zero (ladd g h).
Proof.
  unfold lgrad_zero, ladd. induction g as [|p g IH]; intros h Hg Hh; destruct h as [|q h]; simpl; constructor.
  - apply Forall_inv in Hg; apply Forall_inv in Hh. destruct Hg, Hh. simpl. split.
    + apply all_zero_vadd; auto.
    + lra.
  - apply IH; [exact (Forall_inv_tail Hg) | exact (Forall_inv_tail Hh)].
Qed.

Lemma ladd_weights_zero : forall g h, lgrad_weights_zero g -> lgrad_weights_zero h -> lgrad_weights_zero (ladd g h).
Proof.
  unfold lgrad_weights_zero, ladd. induction g as [|p g IH]; intros h Hg Hh; destruct h as [|q h]; simpl; constructor.
  - apply Forall_inv in Hg; apply Forall_inv in Hh. simpl. apply all_zero_vadd; auto.
  - apply IH; [exact (Forall_inv_tail Hg) | exact (Forall_inv_tail Hh)].
Qed.

(* The batch gradient of a non-empty batch (x0,y0) :: rest: hidden-layer part and output part. *)
Fixpoint batch_grads (s0 : list R * list R) (rest : list (list R * list R)) : list lgrad * lgrad :=
  let g0 := grads (P ++ D :: Q) Out (fst s0) (snd s0) in
  match rest with
  | [] => (fst (fst g0), snd (fst g0))
  | s1 :: rest' =>
      let r := batch_grads s1 rest' in
      (gsum (fst (fst g0)) (fst r), ladd (snd (fst g0)) (snd r))
  end.

Lemma firstn_gsum : forall n gs hs, Forall lgrad_zero (firstn n gs) -> Forall lgrad_zero (firstn n hs) ->
  Forall lgrad_zero (firstn n (gsum gs hs)).
Proof.
  induction n as [|n IH]; intros gs hs Hg Hh; [constructor|].
  destruct gs as [|g gs]; destruct hs as [|h hs]; simpl in *; try constructor.
  - apply ladd_zero; [exact (Forall_inv Hg) | exact (Forall_inv Hh)].
  - apply IH; [exact (Forall_inv_tail Hg) | exact (Forall_inv_tail Hh)].
Qed.

Lemma next_gsum : forall n gs hs go ho,
  length gs = length hs ->
  next_weights_zero (skipn n gs) go -> next_weights_zero (skipn n hs) ho ->
  next_weights_zero (skipn n (gsum gs hs)) (ladd go ho).
Proof.
  unfold next_weights_zero. intros n gs hs go ho Hlen Hg Hh. destruct Q as [|L Q'].
  - apply ladd_weights_zero; auto.
  - revert gs hs Hlen Hg Hh. induction n as [|n IH]; intros gs hs Hlen Hg Hh.
    + destruct gs as [|g gs]; destruct hs as [|h hs]; simpl in *; try contradiction.
      apply ladd_weights_zero; auto.
    + destruct gs as [|g gs]; destruct hs as [|h hs]; simpl in *; try contradiction; try discriminate.
      apply IH; auto.
Qed.

Lemma grads_length : forall Hs x y, length (fst (fst (grads Hs Out x y))) = length Hs.
Proof.
  induction Hs as [|L Hs IH]; intros x y; simpl; [reflexivity|].
  specialize (IH (map relu (pre L x)) y).
  destruct (grads Hs Out (map relu (pre L x)) y) as [[gs gout] da]. simpl in *. now rewrite IH.
Qed.

Lemma gsum_length : forall gs hs, length gs = length hs -> length (gsum gs hs) = length gs.
Proof. induction gs as [|g gs IH]; intros [|h hs] H; simpl in *; auto; discriminate. Qed.

Lemma batch_length : forall s0 rest, length (fst (batch_grads s0 rest)) = length (P ++ D :: Q).
Proof.
  intros s0 rest; revert s0; induction rest as [|s1 rest IH]; intros s0; simpl.
  - apply grads_length.
  - rewrite gsum_length; [apply grads_length|]. rewrite grads_length, IH. reflexivity.
Qed.

(* Fact 2 for every batch drawn from S. *)
Theorem frozen_gradient_batch : forall Sx s0 rest, dead_on Sx ->
  Forall (fun s => In (fst s) Sx) (s0 :: rest) ->
  let r := batch_grads s0 rest in
  Forall lgrad_zero (firstn (S (length P)) (fst r)) /\ next_weights_zero (skipn (S (length P)) (fst r)) (snd r).
Proof.
  intros Sx s0 rest HS. revert s0. induction rest as [|s1 rest IH]; intros s0 Hin; cbn -[firstn skipn gsum ladd grads next_weights_zero].
  - destruct (frozen_gradient_sample (fst s0) (snd s0) (HS _ (Forall_inv Hin))) as [A [B _]]. split; assumption.
  - destruct (frozen_gradient_sample (fst s0) (snd s0) (HS _ (Forall_inv Hin))) as [A [B _]].
    destruct (IH s1 (Forall_inv_tail Hin)) as [A' B']. split.
    + apply firstn_gsum; assumption.
    + apply next_gsum; auto. rewrite grads_length, batch_length. reflexivity.
Qed.

End Dead.
