(* Certificates checked by Coq's kernel. A certificate (written by `deadrelu audit
   --coq FILE.v`) states an architecture, data, theta_0, a hidden layer k and a witness
   theta* with rationals (Q); `cert_check` recomputes, in exact rational arithmetic, that
   layer k of theta_0 is dead on every data point and that the witness has risk < V, and
   the certificate proves `cert_check ... = true` by `vm_compute`. `cert_sound` turns
   that boolean into the theorem of Train.v for the same network and data read as reals:
   for every coordinate-frozen optimizer (the ten of Optimizers.v), every hyperparameter,
   batch loss and batch sequence drawn from the data, no iterate and no limit point is a
   global minimizer. Rust: src/audit/coq.rs writes the file; audit::check_certificate
   checks the same claims of the JSON certificate. *)

Require Import QArith Qreals Reals List Lra Lia.
Require Import DeadRelu.Network DeadRelu.Mechanism DeadRelu.Flat DeadRelu.Risk DeadRelu.Optimizers DeadRelu.Train.
Import ListNotations.

(* ---------- the forward pass and the risk over Q ---------- *)

Local Open Scope Q_scope.

Definition reluQ (t : Q) : Q := if Qle_bool t 0 then 0 else t.

Fixpoint dotQ (w x : list Q) : Q :=
  match w, x with
  | a :: w', b :: x' => a * b + dotQ w' x'
  | _, _ => 0
  end.

Definition preQ (L : list (list Q * Q)) (x : list Q) : list Q := map (fun n => Qred (dotQ (fst n) x + snd n)) L.

Fixpoint hiddenQ (Hs : list (list (list Q * Q))) (x : list Q) : list Q :=
  match Hs with
  | [] => x
  | L :: Hs' => hiddenQ Hs' (map reluQ (preQ L x))
  end.

Definition net_outQ (Ls : list (list (list Q * Q))) (x : list Q) : list Q := preQ (last Ls []) (hiddenQ (removelast Ls) x).

(* every pre-activation of hidden layer k is <= 0 at x *)
Definition layer_deadQ (k : nat) (Ls : list (list (list Q * Q))) (x : list Q) : bool :=
  forallb (fun z => Qle_bool z 0) (preQ (last (firstn k Ls) []) (hiddenQ (removelast (firstn k Ls)) x)).

Fixpoint sumQ (l : list Q) : Q := match l with [] => 0 | a :: l' => a + sumQ l' end.
Fixpoint sumnQ (n : nat) (f : nat -> Q) : Q := match n with O => 0 | S m => sumnQ m f + f m end.
Definition lenQ (n : nat) : Q := inject_Z (Z.of_nat n).

Definition sqerrQ (l : nat) (o y : list Q) : Q := sumnQ l (fun j => (nth j o 0 - nth j y 0) * (nth j o 0 - nth j y 0)).
Definition riskQ (arch : list nat) (Ls : list (list (list Q * Q))) (data : list (list Q * list Q)) : Q :=
  Qred (sumQ (map (fun s => Qred (sqerrQ (n_out arch) (net_outQ Ls (fst s)) (snd s))) data) / lenQ (length data)).
Definition meanQ (ys : list Q) : Q := sumQ ys / lenQ (length ys).
Definition ymeanQ (arch : list nat) (data : list (list Q * list Q)) : list Q :=
  map (fun j => Qred (meanQ (map (fun s => nth j (snd s) 0) data))) (seq 0 (n_out arch)).
Definition VQ (arch : list nat) (data : list (list Q * list Q)) : Q :=
  let c := ymeanQ arch data in (* computed once: vm_compute evaluates a let's value first *)
  Qred (sumQ (map (fun s => Qred (sqerrQ (n_out arch) c (snd s))) data) / lenQ (length data)).

(* The whole check of a certificate. *)
Definition cert_check (arch : list nat) (data : list (list Q * list Q)) (k : nat) (th0 wit : list Q) : bool :=
  Nat.eqb (length th0) (nparams arch) && Nat.eqb (length wit) (nparams arch)
  && Nat.leb 1 k && Nat.ltb k (length arch - 1)
  && forallb (fun s => Nat.eqb (length (fst s)) (hd 0%nat arch) && Nat.eqb (length (snd s)) (n_out arch)) data
  && (let Ls := unflatten arch th0 in forallb (fun s => layer_deadQ k Ls (fst s)) data)
  && negb (Qle_bool (VQ arch data) (riskQ arch (unflatten arch wit) data)).

Local Close Scope Q_scope.
Open Scope R_scope.

(* ---------- from Q to R ---------- *)

Definition lmapQ (L : list (list Q * Q)) : layer := map (fun n => (map Q2R (fst n), Q2R (snd n))) L.
Definition sampleR (s : list Q * list Q) : sample := (map Q2R (fst s), map Q2R (snd s)).

Lemma Q2R_0 : Q2R 0 = 0.
Proof. unfold Q2R. simpl. field. Qed.

Lemma Q2R_red : forall q, Q2R (Qred q) = Q2R q.
Proof. intros q. apply Qeq_eqR, Qred_correct. Qed.

Lemma Q2R_dot : forall w x, Q2R (dotQ w x) = dot (map Q2R w) (map Q2R x).
Proof. induction w as [|a w IH]; intros [|b x]; simpl; try apply Q2R_0. rewrite Q2R_plus, Q2R_mult, IH. reflexivity. Qed.

Lemma Q2R_pre : forall L x, map Q2R (preQ L x) = pre (lmapQ L) (map Q2R x).
Proof.
  intros L x. unfold preQ, pre, lmapQ. rewrite !map_map. apply map_ext. intros n. cbv beta.
  rewrite Q2R_red, Q2R_plus, Q2R_dot. reflexivity.
Qed.

Lemma Q2R_relu : forall t, Q2R (reluQ t) = relu (Q2R t).
Proof.
  intros t. unfold reluQ, relu. destruct (Qle_bool t 0) eqn:E.
  - apply Qle_bool_iff, Qle_Rle in E. rewrite Q2R_0 in *. destruct (Rlt_dec 0 (Q2R t)); [lra | reflexivity].
  - assert (H : ~ (t <= 0)%Q) by (intros H; apply Qle_bool_iff in H; congruence).
    apply Qnot_le_lt, Qlt_Rlt in H. rewrite Q2R_0 in H. destruct (Rlt_dec 0 (Q2R t)); [reflexivity | lra].
Qed.

Lemma Q2R_hidden : forall Hs x, map Q2R (hiddenQ Hs x) = hidden (map lmapQ Hs) (map Q2R x).
Proof.
  induction Hs as [|L Hs IH]; intros x; simpl; [reflexivity|]. rewrite IH. f_equal. unfold act.
  rewrite <- Q2R_pre, !map_map. apply map_ext. apply Q2R_relu.
Qed.

Lemma removelast_map : forall {A B} (f : A -> B) l, removelast (map f l) = map f (removelast l).
Proof. intros A B f l; induction l as [|a [|b l] IH]; simpl in *; auto. rewrite IH. reflexivity. Qed.

Lemma last_map : forall {A B} (f : A -> B) l d, last (map f l) (f d) = f (last l d).
Proof. intros A B f l d; induction l as [|a [|b l] IH]; simpl in *; auto. Qed.

Lemma lmapQ_nil : lmapQ [] = [].
Proof. reflexivity. Qed.

Lemma Q2R_net_out : forall Ls x, map Q2R (net_outQ Ls x) = net_out (map lmapQ Ls) (map Q2R x).
Proof.
  intros Ls x. unfold net_outQ, net_out. rewrite Q2R_pre, Q2R_hidden, removelast_map, <- lmapQ_nil, last_map. reflexivity.
Qed.

Lemma layer_deadQ_sound : forall k Ls x, layer_deadQ k Ls x = true -> layer_dead k (map lmapQ Ls) (map Q2R x).
Proof.
  intros k Ls x H. unfold layer_dead, dead_at, layer_deadQ in *.
  rewrite firstn_map, removelast_map, <- lmapQ_nil, last_map, <- Q2R_hidden, <- Q2R_pre.
  rewrite forallb_forall in H. apply Forall_forall. intros z Hz. apply in_map_iff in Hz. destruct Hz as [q [<- Hq]].
  specialize (H q Hq). apply Qle_bool_iff, Qle_Rle in H. rewrite Q2R_0 in H. exact H.
Qed.

(* theta as layers commutes with reading rationals as reals *)
Lemma rows_map : forall {A B} (f : A -> B) a b th, rows a b (map f th) = map (map f) (rows a b th).
Proof. intros A B f a b; induction b as [|b IH]; intros th; simpl; [reflexivity|]. rewrite firstn_map, skipn_map, IH. reflexivity. Qed.

Lemma combine_map : forall {A B C D} (f : A -> C) (g : B -> D) l l',
  combine (map f l) (map g l') = map (fun p => (f (fst p), g (snd p))) (combine l l').
Proof. intros A B C D f g l; induction l as [|a l IH]; intros [|b l']; simpl; auto. rewrite IH. reflexivity. Qed.

Lemma unflatten_map : forall arch th, unflatten arch (map Q2R th) = map lmapQ (unflatten arch th).
Proof.
  induction arch as [|a rest IH]; intros th; [reflexivity|]. destruct rest as [|b rest]; [reflexivity|].
  change (unflat_layer a b (map Q2R th) :: unflatten (b :: rest) (skipn (b * (a + 1)) (map Q2R th)) =
          lmapQ (unflat_layer a b th) :: map lmapQ (unflatten (b :: rest) (skipn (b * (a + 1)) th))).
  rewrite skipn_map, IH. f_equal. unfold unflat_layer, lmapQ.
  rewrite rows_map, skipn_map, firstn_map, combine_map. reflexivity.
Qed.

(* the risk and V *)
Lemma Q2R_sumQ : forall l, Q2R (sumQ l) = sumR (map Q2R l).
Proof. induction l as [|a l IH]; simpl; [apply Q2R_0|]. rewrite Q2R_plus, IH. reflexivity. Qed.

Lemma Q2R_sumnQ : forall n f, Q2R (sumnQ n f) = sumn n (fun j => Q2R (f j)).
Proof. induction n as [|n IH]; intros f; simpl; [apply Q2R_0|]. rewrite Q2R_plus, IH. reflexivity. Qed.

Lemma nth_Q2R : forall l j, nth j (map Q2R l) 0 = Q2R (nth j l 0%Q).
Proof. intros l j. rewrite <- Q2R_0 at 1. apply map_nth. Qed.

Lemma sumn_ext_R : forall n f g, (forall j, (j < n)%nat -> f j = g j) -> sumn n f = sumn n g.
Proof. induction n as [|n IH]; intros f g H; simpl; [reflexivity|]. rewrite (IH f g) by (intros; apply H; lia). rewrite H by lia. reflexivity. Qed.

Lemma Q2R_sqerr : forall l o y, Q2R (sqerrQ l o y) = sqerr l (map Q2R o) (map Q2R y).
Proof.
  intros l o y. unfold sqerrQ, sqerr. rewrite Q2R_sumnQ. apply sumn_ext_R. intros j _.
  rewrite Q2R_mult, Q2R_minus, !nth_Q2R. reflexivity.
Qed.

Lemma Q2R_div_len : forall q n, Q2R (q / lenQ n) = Q2R q / INR n.
Proof.
  intros q n. destruct n as [|n].
  - unfold lenQ. simpl. unfold Rdiv. rewrite Rinv_0, Rmult_0_r.
    rewrite <- Q2R_0. apply Qeq_eqR. unfold Qeq, Qdiv, Qmult. simpl. ring.
  - rewrite Q2R_div.
    + f_equal. unfold lenQ, Q2R, inject_Z. cbn [Qnum Qden]. rewrite <- INR_IZR_INZ. change (IZR (Z.pos 1)) with 1. field.
    + unfold lenQ. intros H. apply Qeq_eqR in H. rewrite Q2R_0 in H. unfold Q2R, inject_Z in H. cbn [Qnum Qden] in H.
      rewrite <- INR_IZR_INZ in H. change (IZR (Z.pos 1)) with 1 in H. pose proof (pos_INR n). rewrite S_INR in H. rewrite Rinv_1, Rmult_1_r in H. lra.

Qed.

Lemma Q2R_risk : forall arch Ls data, Q2R (riskQ arch Ls data) = risk arch (map lmapQ Ls) (map sampleR data).
Proof.
  intros arch Ls data. unfold riskQ, risk. rewrite Q2R_red, Q2R_div_len, Q2R_sumQ, !map_map, map_length. f_equal. f_equal.
  apply map_ext. intros s. rewrite Q2R_red, Q2R_sqerr, Q2R_net_out. reflexivity.
Qed.

Lemma Q2R_ymean : forall arch data, map Q2R (ymeanQ arch data) = ymean arch (map sampleR data).
Proof.
  intros arch data. unfold ymeanQ, ymean. rewrite map_map. apply map_ext. intros j.
  rewrite Q2R_red. unfold meanQ, mean, column. rewrite Q2R_div_len, Q2R_sumQ, !map_map, !map_length. f_equal. f_equal.
  apply map_ext. intros s. unfold sampleR. simpl. rewrite nth_Q2R. reflexivity.
Qed.

Lemma Q2R_V : forall arch data, Q2R (VQ arch data) = V arch (map sampleR data).
Proof.
  intros arch data. unfold VQ, V. rewrite Q2R_red, Q2R_div_len, Q2R_sumQ, !map_map, map_length. f_equal. f_equal.
  apply map_ext. intros s. rewrite Q2R_red, Q2R_sqerr, Q2R_ymean. reflexivity.
Qed.

(* ---------- soundness ---------- *)

(* What a certificate concludes for an optimizer o: for every batch loss and every
   sequence of batches drawn from the data, no iterate and no limit point is a global
   minimizer of the empirical risk (and layer k stays dead, by trains_dead). *)
Definition cert_conclusion (arch : list nat) (data : list (list Q * list Q)) (k : nat) (th0 : list Q) (o : coord_opt) : Prop :=
  let dR := map sampleR data in
  forall red (batch : nat -> list sample), (forall n s, In s (batch n) -> In s dR) ->
  let th := fun n => snd (train o (fun j => flat_grad arch red (batch j)) (map Q2R th0) n) in
  (forall n, dead_on_data k (unflatten arch (th n)) dR /\ risk arch (unflatten arch (th n)) dR >= V arch dR)
  /\ (forall n, ~ global_minimizer arch dR (th n))
  /\ (forall p, length p = nparams arch -> limit_point th p -> ~ global_minimizer arch dR p).

Theorem cert_sound : forall arch data k th0 wit, cert_check arch data k th0 wit = true ->
  forall o, coordinate_frozen o -> cert_conclusion arch data k th0 o.
Proof.
  intros arch data k th0 wit H o Ho red batch Hb th.
  unfold cert_check in H. repeat rewrite andb_true_iff in H.
  destruct H as [[[[[[H1 H2] H3] H4] H5] H6] H7].
  apply Nat.eqb_eq in H1, H2. apply Nat.leb_le in H3. apply Nat.ltb_lt in H4.
  rewrite forallb_forall in H5, H6.
  assert (Hshape : data_shaped arch (map sampleR data)).
  { unfold data_shaped. apply Forall_forall. intros s Hs. apply in_map_iff in Hs. destruct Hs as [q [<- Hq]].
    specialize (H5 q Hq). apply andb_true_iff in H5. destruct H5 as [A B]. apply Nat.eqb_eq in A, B.
    unfold sampleR. simpl. rewrite !map_length. split; assumption. }
  assert (Hdead : dead_on_data k (unflatten arch (map Q2R th0)) (map sampleR data)).
  { intros s Hs. apply in_map_iff in Hs. destruct Hs as [q [<- Hq]]. rewrite unflatten_map.
    apply layer_deadQ_sound. apply H6. exact Hq. }
  assert (Hwit : risk arch (unflatten arch (map Q2R wit)) (map sampleR data) < V arch (map sampleR data)).
  { rewrite unflatten_map, <- Q2R_risk, <- Q2R_V. apply Qlt_Rlt.
    apply Qnot_le_lt. intros Hle. apply Qle_bool_iff in Hle. rewrite Hle in H7. discriminate. }
  destruct (frozen_trains_dead o Ho arch (map sampleR data) k (map Q2R th0) red batch
              ltac:(rewrite map_length; exact H1) Hshape ltac:(lia) Hb Hdead) as [A [_ C]].
  split; [|apply C; exists (map Q2R wit); split; [rewrite map_length; exact H2 | exact Hwit]].
  intros n. destruct (A n) as [_ [D [_ E]]]. split; assumption.
Qed.
