(* Gradient soundness: where no hidden pre-activation is 0, the generalized gradient
   `grads` of Network.v (backpropagation with ReLU'(0) = 0, MECHANISM.md's definition)
   is the gradient of the loss: its coordinate i (in theta's layout, Flat.v) is the
   partial derivative d/dt at t = 0 of the loss at theta + t e_i (Coquelicot's
   `is_derive`); and the mean over the data of the samples' gradients is the partial
   derivative of the empirical risk. Proof: forward-mode tangents (the derivative of
   every pre-activation along a direction, with ReLU locally linear off 0), then the
   adjoint identity of backpropagation (<grads, direction> = <output error, output
   tangent>). Rust: Network::risk_and_gradient; tests/cross_validation.rs
   (gradient_equals_central_difference) checks the same numerically. *)

Require Import Reals List Lra Lia.
From Coquelicot Require Import Hierarchy Continuity Derive.
Require Import DeadRelu.Network DeadRelu.Mechanism DeadRelu.Flat DeadRelu.Risk DeadRelu.Train.
Import ListNotations.
Open Scope R_scope.

(* ---------- directions and tangents ---------- *)

(* w + t dw, coordinatewise; a layer, a network plus t times a direction of its shape *)
Definition vlin (t : R) (w dw : list R) : list R := map (fun p => fst p + t * snd p) (combine w dw).
Definition llin (t : R) (L dL : layer) : layer :=
  map (fun p => (vlin t (fst (fst p)) (fst (snd p)), snd (fst p) + t * snd (snd p))) (combine L dL).
Definition nlin (t : R) (Ls dLs : list layer) : list layer := map (fun p => llin t (fst p) (snd p)) (combine Ls dLs).

(* the tangent of z = W a + B along (dW, dB) with input tangent da: dW a + W da + dB *)
Definition tpre (L dL : layer) (a da : list R) : list R :=
  map (fun p => dot (fst (snd p)) a + dot (fst (fst p)) da + snd (snd p)) (combine L dL).

(* the tangent of the last hidden activations *)
Fixpoint thidden (Hs dHs : list layer) (a da : list R) : list R :=
  match Hs, dHs with
  | L :: Hs', dL :: dHs' => thidden Hs' dHs' (act L a) (zipmul (map relu' (pre L a)) (tpre L dL a da))
  | _, _ => da
  end.

(* no hidden pre-activation is 0 at x *)
Fixpoint no_tie (Hs : list layer) (a : list R) : Prop :=
  match Hs with
  | [] => True
  | L :: Hs' => Forall (fun z => z <> 0) (pre L a) /\ no_tie Hs' (act L a)
  end.

(* ---------- list algebra ---------- *)

Lemma dot_app : forall A B C D, length A = length C -> dot (A ++ B) (C ++ D) = dot A C + dot B D.
Proof. induction A as [|a A IH]; intros B [|c C] D H; simpl in *; try discriminate; [ring|]. rewrite IH by lia. ring. Qed.

Lemma dot_scale_l : forall d w a, dot (map (fun u => d * u) w) a = d * dot w a.
Proof. intros d; induction w as [|u w IH]; intros [|b a]; simpl; try ring. rewrite IH. ring. Qed.

Lemma dot_comm : forall w a, dot w a = dot a w.
Proof. induction w as [|u w IH]; intros [|b a]; simpl; try ring. rewrite IH. ring. Qed.

Lemma dot_vadd : forall u v a, length u = length v -> length a = length u -> dot (vadd u v) a = dot u a + dot v a.
Proof.
  induction u as [|x u IH]; intros [|y v] [|b a] H1 H2; simpl in *; try discriminate; try ring.
  rewrite IH by lia. ring.
Qed.

Lemma dot_repeat_0 : forall n a, dot (repeat 0 n) a = 0.
Proof. induction n as [|n IH]; intros [|b a]; simpl; try ring. rewrite IH. ring. Qed.

Lemma dot_zipmul : forall r u v, dot (zipmul r u) v = dot u (zipmul r v).
Proof. induction r as [|x r IH]; intros [|y u] [|z v]; simpl; try ring. rewrite IH. ring. Qed.

(* the flat dot product of two layers of the same shape, neuron by neuron *)
Lemma sumR_plus : forall {A} (f g : A -> R) l, sumR (map (fun a => f a + g a) l) = sumR (map f l) + sumR (map g l).
Proof. intros A f g l; induction l as [|a l IH]; simpl; [ring|]. rewrite IH. ring. Qed.

Lemma dot_flat_layer : forall (G dL : layer), Forall2 (fun p q => length (fst p) = length (fst q)) G dL ->
  dot (flat_layer G) (flat_layer dL) = sumR (map (fun p => dot (fst (fst p)) (fst (snd p)) + snd (fst p) * snd (snd p)) (combine G dL)).
Proof.
  intros G dL H. unfold flat_layer. rewrite sumR_plus.
  assert (Hc : length (concat (map fst G)) = length (concat (map fst dL))).
  { induction H as [|p q G dL Hpq H IH]; simpl; [reflexivity|]. rewrite !app_length, Hpq, IH. reflexivity. }
  rewrite dot_app by exact Hc. clear Hc. f_equal.
  - induction H as [|p q G dL Hpq H IH]; simpl; [reflexivity|]. rewrite dot_app by exact Hpq. rewrite IH. reflexivity.
  - induction H as [|p q G dL Hpq H IH]; simpl; [reflexivity|]. rewrite IH. reflexivity.
Qed.

(* one layer: <layer_grad delta a, dL> + <W^T delta, da> = <delta, tangent of z> *)
Lemma layer_adjoint : forall (L dL : layer) delta a da,
  Forall (fun nj => length (fst nj) = length a) L -> Forall (fun nj => length (fst nj) = length a) dL ->
  length dL = length L -> length delta = length L -> length da = length a ->
  dot (flat_layer (layer_grad delta a)) (flat_layer dL) + dot (backvec L delta (length a)) da = dot delta (tpre L dL a da).
Proof.
  intros L dL delta a da HL HdL Hl1 Hl2 Hda.
  rewrite dot_flat_layer.
  2:{ unfold layer_grad. revert dL delta HdL Hl1 Hl2. induction L as [|nj L IH]; intros [|q dL] [|d delta] HdL Hl1 Hl2;
      simpl in *; try discriminate; constructor.
      - simpl. rewrite map_length. symmetry. exact (Forall_inv HdL).
      - apply IH; [exact (Forall_inv_tail HL) | exact (Forall_inv_tail HdL) | lia | lia]. }
  revert dL delta HdL Hl1 Hl2. induction L as [|nj L IH]; intros [|q dL] [|d delta] HdL Hl1 Hl2; simpl in *; try discriminate.
  - rewrite dot_repeat_0. ring.
  - rewrite dot_vadd.
    + specialize (IH (Forall_inv_tail HL) dL delta (Forall_inv_tail HdL) ltac:(lia) ltac:(lia)).
      rewrite dot_scale_l, (dot_comm a (fst q)). fold (tpre L dL a da).
      rewrite <- IH, (dot_scale_l d (fst nj) da). ring.
    + rewrite map_length, backvec_length; [exact (Forall_inv HL) | exact (Forall_inv_tail HL)].
      
    + rewrite map_length, Hda. symmetry. exact (Forall_inv HL).
Qed.

Lemma tpre_length : forall L dL a da, length (tpre L dL a da) = Nat.min (length L) (length dL).
Proof. intros; unfold tpre; rewrite map_length, combine_length; reflexivity. Qed.

Lemma shaped_cons_inv : forall a b rest L Ls, shaped (a :: b :: rest) (L :: Ls) -> lshape a b L /\ shaped (b :: rest) Ls.
Proof. intros a b rest L Ls H. inversion H; subst. split; assumption. Qed.

Lemma shaped_nil_inv : forall a rest, shaped (a :: rest) [] -> rest = [].
Proof. intros a rest H. inversion H; reflexivity. Qed.

Lemma shaped_single_inv : forall a L rest, shaped (a :: rest) [L] -> exists b, rest = [b] /\ lshape a b L.
Proof.
  intros a L rest H. inversion H as [|a' b rest' L' Ls' HL HLs]; subst.
  apply shaped_nil_inv in HLs. subst. exists b. split; [reflexivity | exact HL].
Qed.

(* the adjoint identity of backpropagation, for a network with input tangent da *)
Lemma grads_adjoint : forall Hs dHs Out dOut a rest x y da,
  shaped (a :: rest) (Hs ++ [Out]) -> shaped (a :: rest) (dHs ++ [dOut]) ->
  length x = a -> length y = last rest a -> length da = a ->
  let r := grads Hs Out x y in
  dot (flatten (fst (fst r) ++ [snd (fst r)])) (flatten (dHs ++ [dOut])) + dot (snd r) da
  = dot (out_error (pre Out (hidden Hs x)) y) (tpre Out dOut (hidden Hs x) (thidden Hs dHs x da)).
Proof.
  induction Hs as [|L Hs IH]; intros dHs Out dOut a rest x y da Hsh Hdsh Hx Hy Hda.
  - destruct dHs as [|dL dHs].
    2:{ apply shaped_length in Hsh. apply shaped_length in Hdsh. simpl in *. rewrite app_length in Hdsh. simpl in Hdsh. lia. }
    simpl. unfold flatten. simpl. rewrite !app_nil_r.
    simpl in Hsh, Hdsh. destruct (shaped_single_inv _ _ _ Hsh) as [b [-> [HLl HLf]]].
    destruct (shaped_single_inv _ _ _ Hdsh) as [b' [E [HdLl HdLf]]]. injection E as <-. simpl in Hy.
    subst a. apply layer_adjoint; auto; try lia.
    rewrite out_error_length, pre_length. lia.
  - destruct dHs as [|dL dHs].
    { apply shaped_length in Hsh. apply shaped_length in Hdsh. simpl in *. rewrite app_length in Hsh. simpl in Hsh. lia. }
    destruct rest as [|b rest']; [simpl in Hsh; inversion Hsh|].
    simpl in Hsh, Hdsh.
    destruct (shaped_cons_inv _ _ _ _ _ Hsh) as [[HLl HLf] HLs].
    destruct (shaped_cons_inv _ _ _ _ _ Hdsh) as [[HdLl HdLf] HdLs].
    assert (Hx' : length (map relu (pre L x)) = b) by (rewrite map_length, pre_length; exact HLl).
    assert (Hy' : length y = last rest' b)
      by (rewrite Hy; destruct rest' as [|n r]; [reflexivity | change (last (n :: r) a = last (n :: r) b); apply last_cons_default]).
    pose proof (grads_shape Hs Out b rest' (map relu (pre L x)) y HLs Hx' Hy') as [G1 G2].
    set (t := tpre L dL x da).
    assert (Ht : length (zipmul (map relu' (pre L x)) t) = b)
      by (unfold t; rewrite zipmul_length, map_length, pre_length, tpre_length; lia).
    pose proof (IH dHs Out dOut b rest' (map relu (pre L x)) y (zipmul (map relu' (pre L x)) t) HLs HdLs Hx' Hy' Ht) as IH'.
    simpl in *. unfold act.
    destruct (grads Hs Out (map relu (pre L x)) y) as [[gs gout] da'] eqn:E. simpl in *.
    change (flatten (layer_grad (zipmul (map relu' (pre L x)) da') x :: gs ++ [gout]))
      with (flat_layer (layer_grad (zipmul (map relu' (pre L x)) da') x) ++ flatten (gs ++ [gout])).
    change (flatten (dL :: dHs ++ [dOut])) with (flat_layer dL ++ flatten (dHs ++ [dOut])).
    assert (Hlg : lshape a b (layer_grad (zipmul (map relu' (pre L x)) da') x)).
    { pose proof (layer_grad_shape (zipmul (map relu' (pre L x)) da') x) as S.
      rewrite zipmul_length, map_length, pre_length, G2, HLl, Nat.min_id, Hx in S. exact S. }
    rewrite dot_app by (rewrite (flat_layer_length _ _ _ Hlg), (flat_layer_length _ _ _ (conj HdLl HdLf)); reflexivity).
    fold t. rewrite <- IH'.
    assert (Hd1 : length (zipmul (map relu' (pre L x)) da') = length L)
      by (rewrite zipmul_length, map_length, pre_length, G2; lia).
    assert (Hd2 : length dL = length L) by lia.
    assert (Hd3 : length da = length x) by lia.
    rewrite <- Hx in HLf, HdLf.
    pose proof (layer_adjoint L dL (zipmul (map relu' (pre L x)) da') x da HLf HdLf Hd2 Hd1 Hd3) as HA.
    fold t in HA. rewrite dot_zipmul in HA. lra.
Qed.

(* ---------- derivatives of list-valued functions, coordinate by coordinate ---------- *)

(* every coordinate of f is differentiable at 0, with derivative the same coordinate of df *)
Definition vderiv (f : R -> list R) (df : list R) : Prop :=
  forall j, is_derive (fun t => nth j (f t) 0) 0 (nth j df 0).

Lemma d_plus : forall (f g : R -> R) (df dg : R), is_derive f 0 df -> is_derive g 0 dg -> is_derive (fun t => f t + g t) 0 (df + dg).
Proof. intros. apply (is_derive_plus f g); assumption. Qed.

Lemma d_mult : forall (f g : R -> R) (df dg : R), is_derive f 0 df -> is_derive g 0 dg -> is_derive (fun t => f t * g t) 0 (df * g 0 + f 0 * dg).
Proof. intros. apply (is_derive_mult f g); assumption. Qed.

Lemma d_const : forall c : R, is_derive (fun _ => c) 0 0.
Proof. intros c. apply (is_derive_const c). Qed.

Lemma d_eq : forall (f : R -> R) (l l' : R), is_derive f 0 l -> l = l' -> is_derive f 0 l'.
Proof. intros f l l' H <-. exact H. Qed.

Lemma d_lin : forall c d, is_derive (fun t => c + t * d) 0 d.
Proof.
  intros c d. eapply d_eq.
  - apply (d_plus (fun _ => c) (fun t => t * d)); [apply d_const|].
    apply (d_mult (fun t => t) (fun _ => d)); [apply (is_derive_id 0) | apply d_const].
  - change (0 + (1 * d + 0 * 0) = d). ring.
Qed.

Lemma d_ext : forall (f g : R -> R) (l : R), (forall t, f t = g t) -> is_derive f 0 l -> is_derive g 0 l.
Proof. intros f g l H. apply is_derive_ext. exact H. Qed.

Lemma vderiv_ext : forall f g df, (forall t, f t = g t) -> vderiv f df -> vderiv g df.
Proof. intros f g df H Hf j. apply (d_ext (fun t => nth j (f t) 0)); [intros t; rewrite H; reflexivity | apply Hf]. Qed.

Lemma nth_nil_0 : forall j, nth j (@nil R) 0 = 0.
Proof. intros [|j]; reflexivity. Qed.

Lemma vderiv_nil : vderiv (fun _ => []) [].
Proof. intros j. apply (d_ext (fun _ => 0)); [intros t; cbv beta; rewrite nth_nil_0; reflexivity | rewrite nth_nil_0; apply d_const]. Qed.

Lemma vderiv_cons : forall f g df dg, is_derive f 0 df -> vderiv g dg -> vderiv (fun t => f t :: g t) (df :: dg).
Proof. intros f g df dg Hf Hg [|j]; simpl; [exact Hf | apply Hg]. Qed.

Lemma vderiv_const : forall x, vderiv (fun _ => x) (repeat 0 (length x)).
Proof.
  intros x j. replace (nth j (repeat 0 (length x)) 0) with 0 by (revert j; induction (length x) as [|n IH]; intros [|j]; simpl; auto).
  apply d_const.
Qed.

(* ---------- finite sums ---------- *)

Lemma sumn_front : forall n f, sumn (S n) f = f 0%nat + sumn n (fun j => f (S j)).
Proof. induction n as [|n IH]; intros f; simpl in *; [ring|]. rewrite IH. ring. Qed.

Lemma sumn_zero : forall n f, (forall j, (j < n)%nat -> f j = 0) -> sumn n f = 0.
Proof. induction n as [|n IH]; intros f H; simpl; [reflexivity|]. rewrite IH; [rewrite H by lia; ring | intros; apply H; lia]. Qed.

Lemma dot_sumn : forall w a N, (length w <= N)%nat -> dot w a = sumn N (fun j => nth j w 0 * nth j a 0).
Proof.
  induction w as [|u w IH]; intros a N H.
  - simpl. symmetry. apply sumn_zero. intros j _. destruct j; simpl; ring.
  - destruct N as [|N]; [simpl in H; lia|]. rewrite sumn_front. destruct a as [|b a].
    + simpl. rewrite sumn_zero; [ring|]. intros j _. destruct j; simpl; ring.
    + simpl. rewrite (IH a N) by (simpl in H; lia). reflexivity.
Qed.

Lemma is_derive_sumn : forall N (f : R -> nat -> R) df, (forall j, (j < N)%nat -> is_derive (fun t => f t j) 0 (df j)) ->
  is_derive (fun t => sumn N (f t)) 0 (sumn N df).
Proof.
  induction N as [|N IH]; intros f df H; simpl; [apply d_const|].
  apply d_plus; [apply IH; intros; apply H; lia | apply H; lia].
Qed.

(* the derivative of a dot product *)
Lemma is_derive_dot : forall (w a : R -> list R) dw da N, (forall t, (length (w t) <= N)%nat) -> (length dw <= N)%nat ->
  vderiv w dw -> vderiv a da -> is_derive (fun t => dot (w t) (a t)) 0 (dot dw (a 0) + dot (w 0) da).
Proof.
  intros w a dw da N Hw Hdw Dw Da.
  apply (d_ext (fun t => sumn N (fun j => nth j (w t) 0 * nth j (a t) 0))); [intros t; symmetry; apply dot_sumn, Hw|].
  eapply d_eq; [apply (is_derive_sumn N (fun t j => nth j (w t) 0 * nth j (a t) 0)); intros j _; apply d_mult; [apply Dw | apply Da]|].
  rewrite (dot_sumn dw (a 0) N Hdw), (dot_sumn (w 0) da N (Hw 0)), <- sumn_plus. reflexivity.
Qed.

(* ---------- the forward pass along t ---------- *)

Definition same_shape (L dL : layer) : Prop := Forall2 (fun p q => length (fst p) = length (fst q)) L dL.

Lemma vlin_nth : forall t w dw j, length w = length dw -> nth j (vlin t w dw) 0 = nth j w 0 + t * nth j dw 0.
Proof.
  intros t w; induction w as [|u w IH]; intros [|v dw] j H; simpl in *; try discriminate.
  - destruct j; simpl; ring.
  - destruct j; simpl; [reflexivity|]. apply IH. lia.
Qed.

Lemma vlin_length : forall t w dw, length (vlin t w dw) = Nat.min (length w) (length dw).
Proof. intros; unfold vlin; rewrite map_length, combine_length; reflexivity. Qed.

Lemma vlin_0 : forall w dw, length w = length dw -> vlin 0 w dw = w.
Proof. induction w as [|u w IH]; intros [|v dw] H; simpl in *; try discriminate; [reflexivity|]. unfold vlin; simpl. f_equal; [ring | apply IH; lia]. Qed.

Lemma vderiv_vlin : forall w dw, length w = length dw -> vderiv (fun t => vlin t w dw) dw.
Proof.
  intros w dw H j. apply (d_ext (fun t => nth j w 0 + t * nth j dw 0)); [intros t; rewrite vlin_nth by exact H; reflexivity|].
  apply d_lin.
Qed.

Lemma llin_0 : forall L dL, same_shape L dL -> llin 0 L dL = L.
Proof.
  intros L dL H; induction H as [|p q L dL Hpq H IH]; [reflexivity|].
  unfold llin in *; simpl. rewrite IH, vlin_0 by exact Hpq. destruct p; simpl. f_equal. f_equal. ring.
Qed.

Lemma llin_length : forall t L dL, length (llin t L dL) = Nat.min (length L) (length dL).
Proof. intros; unfold llin; rewrite map_length, combine_length; reflexivity. Qed.

(* the pre-activations of L + t dL at a(t) *)
Lemma vderiv_pre : forall L dL a da, same_shape L dL -> vderiv a da ->
  vderiv (fun t => pre (llin t L dL) (a t)) (tpre L dL (a 0) da).
Proof.
  intros L dL a da H Da. induction H as [|p q L dL Hpq H IH].
  - apply (vderiv_ext (fun _ => [])); [reflexivity | apply vderiv_nil].
  - apply (vderiv_ext (fun t => (dot (vlin t (fst p) (fst q)) (a t) + (snd p + t * snd q)) :: pre (llin t L dL) (a t)));
      [reflexivity|].
    apply vderiv_cons; [|exact IH].
    eapply d_eq.
    + apply d_plus; [apply (is_derive_dot (fun t => vlin t (fst p) (fst q)) a (fst q) da (length (fst p)))|].
      * intros t. rewrite vlin_length. lia.
      * lia.
      * apply vderiv_vlin. exact Hpq.
      * exact Da.
      * apply d_lin.
    + rewrite vlin_0 by exact Hpq. reflexivity.
Qed.

(* ReLU is differentiable off 0, with derivative relu' *)
Lemma is_derive_relu : forall (f : R -> R) (df : R), f 0 <> 0 -> is_derive f 0 df -> is_derive (fun t => relu (f t)) 0 (relu' (f 0) * df).
Proof.
  intros f df Hne Hf.
  assert (Hc : continuous f 0) by (apply (ex_derive_continuous (K := R_AbsRing) (V := R_NormedModule) f 0); exists df; exact Hf).
  destruct (Rlt_or_le 0 (f 0)) as [Hpos|Hnpos].
  - assert (Hloc : locally 0 (fun t => 0 < f t)) by (apply (Hc (fun u => 0 < u)); apply open_gt; exact Hpos).
    unfold relu' at 1. destruct (Rlt_dec 0 (f 0)) as [_|]; [|lra].
    eapply d_eq; [apply (is_derive_ext_loc f); [|exact Hf] | ring].
    revert Hloc. apply filter_imp. intros t Ht. unfold relu. destruct (Rlt_dec 0 (f t)); [reflexivity | lra].
  - assert (Hneg : f 0 < 0) by lra.
    assert (Hloc : locally 0 (fun t => f t < 0)) by (apply (Hc (fun u => u < 0)); apply open_lt; exact Hneg).
    unfold relu' at 1. destruct (Rlt_dec 0 (f 0)) as [|_]; [lra|].
    eapply d_eq; [apply (is_derive_ext_loc (fun _ => 0)); [|apply d_const] | ring].
    revert Hloc. apply filter_imp. intros t Ht. unfold relu. destruct (Rlt_dec 0 (f t)); [lra | reflexivity].
Qed.

Lemma nth_map_0 : forall (f : R -> R) l j, f 0 = 0 -> nth j (map f l) 0 = f (nth j l 0).
Proof. intros f l j H. rewrite <- H at 1. apply map_nth. Qed.

Lemma nth_zipmul : forall u v j, nth j (zipmul u v) 0 = nth j u 0 * nth j v 0.
Proof.
  induction u as [|a u IH]; intros [|b v] j; destruct j; simpl; try ring.
  apply IH.
Qed.

Lemma relu_0 : relu 0 = 0.
Proof. apply relu_nonpos. lra. Qed.
Lemma relu'_0 : relu' 0 = 0.
Proof. apply relu'_nonpos. lra. Qed.

Lemma vderiv_relu : forall z dz, vderiv z dz -> (forall t, length (z t) = length (z 0)) ->
  Forall (fun u => u <> 0) (z 0) -> vderiv (fun t => map relu (z t)) (zipmul (map relu' (z 0)) dz).
Proof.
  intros z dz Dz Hl Hnz j. rewrite nth_zipmul, nth_map_0 by exact relu'_0.
  apply (d_ext (fun t => relu (nth j (z t) 0))); [intros t; rewrite nth_map_0 by exact relu_0; reflexivity|].
  destruct (Nat.lt_ge_cases j (length (z 0))) as [Hj|Hj].
  - apply (is_derive_relu (fun t => nth j (z t) 0)); [|apply Dz]. rewrite Forall_forall in Hnz. apply Hnz, nth_In, Hj.
  - rewrite (nth_overflow (z 0)) by exact Hj. rewrite relu'_0, Rmult_0_l.
    apply (d_ext (fun _ => 0)); [intros t; rewrite nth_overflow by (rewrite Hl; exact Hj); symmetry; exact relu_0 | apply d_const].
Qed.

Lemma vderiv_hidden : forall Hs dHs a da, Forall2 same_shape Hs dHs -> vderiv a da -> no_tie Hs (a 0) ->
  vderiv (fun t => hidden (nlin t Hs dHs) (a t)) (thidden Hs dHs (a 0) da).
Proof.
  intros Hs dHs a da H. revert a da. induction H as [|L dL Hs dHs HL H IH]; intros a da Da Hnt.
  - apply (vderiv_ext a); [reflexivity | exact Da].
  - destruct Hnt as [Hnz Hnt].
    apply (vderiv_ext (fun t => hidden (nlin t Hs dHs) (map relu (pre (llin t L dL) (a t))))); [reflexivity|].
    simpl thidden. unfold act.
    specialize (IH (fun t => map relu (pre (llin t L dL) (a t))) (zipmul (map relu' (pre L (a 0))) (tpre L dL (a 0) da))).
    simpl in IH. rewrite llin_0 in IH by exact HL. apply IH; [|exact Hnt].
    replace (pre L (a 0)) with (pre (llin 0 L dL) (a 0)) at 1 by (rewrite llin_0 by exact HL; reflexivity).
    apply (vderiv_relu (fun t => pre (llin t L dL) (a t))).
    + apply vderiv_pre; assumption.
    + intros t. rewrite !pre_length, !llin_length. reflexivity.
    + rewrite llin_0 by exact HL. exact Hnz.
Qed.

(* ---------- the loss ---------- *)

Lemma sumn_ext : forall n f g, (forall j, (j < n)%nat -> f j = g j) -> sumn n f = sumn n g.
Proof. induction n as [|n IH]; intros f g H; simpl; [reflexivity|]. rewrite (IH f g) by (intros; apply H; lia). rewrite H by lia. reflexivity. Qed.

Lemma is_derive_sqerr : forall l o d y, vderiv o d ->
  is_derive (fun t => sqerr l (o t) y) 0 (sumn l (fun j => 2 * (nth j (o 0) 0 - nth j y 0) * nth j d 0)).
Proof.
  intros l o d y Do. unfold sqerr. apply (is_derive_sumn l (fun t j => (nth j (o t) 0 - nth j y 0) * (nth j (o t) 0 - nth j y 0))).
  intros j _.
  assert (Dj : is_derive (fun t => nth j (o t) 0 - nth j y 0) 0 (nth j d 0)).
  { eapply d_eq; [apply (d_plus (fun t => nth j (o t) 0) (fun _ => - nth j y 0)); [apply Do | apply d_const] | ring]. }
  eapply d_eq; [apply (d_mult _ _ _ _ Dj Dj) | ring].
Qed.

Lemma nth_out_error : forall o y j, length o = length y -> nth j (out_error o y) 0 = 2 * (nth j o 0 - nth j y 0).
Proof.
  induction o as [|a o IH]; intros [|b y] j H; simpl in *; try discriminate.
  - destruct j; simpl; ring.
  - destruct j; [reflexivity|]. apply IH. lia.
Qed.

Lemma dot_out_error : forall l o y d, length o = l -> length y = l ->
  dot (out_error o y) d = sumn l (fun j => 2 * (nth j o 0 - nth j y 0) * nth j d 0).
Proof.
  intros l o y d Ho Hy. rewrite (dot_sumn _ _ l) by (rewrite out_error_length; lia).
  apply sumn_ext. intros j _. rewrite nth_out_error by lia. reflexivity.
Qed.

(* ---------- one sample, along any direction ---------- *)

Lemma lshape_same : forall a b L dL, lshape a b L -> lshape a b dL -> same_shape L dL.
Proof.
  intros a b L dL [HL HLf] [HdL HdLf]. subst b. revert dL HdL HdLf.
  induction HLf as [|p L Hp HLf IH]; intros [|q dL] HdL HdLf; simpl in *; try discriminate; constructor.
  - rewrite Hp. symmetry. exact (Forall_inv HdLf).
  - apply IH; [lia | exact (Forall_inv_tail HdLf)].
Qed.

Lemma shaped_same : forall arch Ls dLs, shaped arch Ls -> shaped arch dLs -> Forall2 same_shape Ls dLs.
Proof.
  intros arch Ls dLs H; revert dLs; induction H as [a|a b rest L Ls HL HLs IH]; intros dLs Hd.
  - inversion Hd; constructor.
  - inversion Hd as [|a' b' rest' dL dLs' HdL HdLs]; subst. constructor; [apply (lshape_same a b); assumption | apply IH; exact HdLs].
Qed.

Lemma F2_length : forall {A B} (P : A -> B -> Prop) l l', Forall2 P l l' -> length l = length l'.
Proof. intros A B P l l' H; induction H; simpl; auto. Qed.

Lemma F2_app_inv : forall {A B} (P : A -> B -> Prop) l1 l2 l1' l2', Forall2 P (l1 ++ l2) (l1' ++ l2') ->
  length l1 = length l1' -> Forall2 P l1 l1' /\ Forall2 P l2 l2'.
Proof.
  intros A B P l1; induction l1 as [|a l1 IH]; intros l2 [|b l1'] l2' H Hl; simpl in *; try discriminate.
  - split; [constructor | exact H].
  - inversion H; subst. destruct (IH l2 l1' l2' ltac:(assumption) ltac:(lia)). split; [constructor|]; assumption.
Qed.

Lemma nlin_0 : forall Ls dLs, Forall2 same_shape Ls dLs -> nlin 0 Ls dLs = Ls.
Proof. intros Ls dLs H; induction H as [|L dL Ls dLs HL H IH]; [reflexivity|]. unfold nlin in *; simpl. rewrite IH, llin_0 by exact HL. reflexivity. Qed.

Lemma nlin_app : forall t A B C D, length A = length C -> nlin t (A ++ B) (C ++ D) = nlin t A C ++ nlin t B D.
Proof. intros t A; induction A as [|L A IH]; intros B [|dL C] D H; simpl in *; try discriminate; [reflexivity|]. unfold nlin in *; simpl. rewrite IH by lia. reflexivity. Qed.

Lemma shaped_last_length : forall Hs arch Out, shaped arch (Hs ++ [Out]) -> length Out = n_out arch.
Proof.
  induction Hs as [|L Hs IH]; intros arch Out H.
  - simpl in H. destruct arch as [|a rest]; [inversion H|]. destruct (shaped_single_inv _ _ _ H) as [b [-> [HL _]]]. exact HL.
  - destruct arch as [|a [|b rest]]; [inversion H | inversion H |].
    simpl in H. destruct (shaped_cons_inv _ _ _ _ _ H) as [_ H']. rewrite (IH _ _ H'). reflexivity.
Qed.

(* the derivative of one sample's loss along a direction dLs is <grads, dLs> *)
Theorem grads_directional_derivative : forall arch Ls dLs x y, shaped arch Ls -> shaped arch dLs -> Ls <> [] ->
  length x = hd 0%nat arch -> length y = n_out arch -> no_tie (removelast Ls) x ->
  is_derive (fun t => sqerr (n_out arch) (net_out (nlin t Ls dLs) x) y) 0 (dot (flatten (net_grads Ls x y)) (flatten dLs)).
Proof.
  intros arch Ls dLs x y HLs HdLs Hne Hx Hy Hnt.
  assert (Hlen : length Ls = length dLs) by (apply shaped_length in HLs; apply shaped_length in HdLs; lia).
  assert (Hdne : dLs <> []) by (intros E; subst; destruct Ls; [contradiction | discriminate]).
  set (Hs := removelast Ls) in *. set (Out := last Ls []). set (dHs := removelast dLs). set (dOut := last dLs []).
  assert (ELs : Ls = Hs ++ [Out]) by apply (split_last Ls Hne).
  assert (EdLs : dLs = dHs ++ [dOut]) by apply (split_last dLs Hdne).
  assert (Hl2 : length Hs = length dHs) by (rewrite ELs, EdLs, !app_length in Hlen; simpl in Hlen; lia).
  assert (Hsame : Forall2 same_shape (Hs ++ [Out]) (dHs ++ [dOut])) by (rewrite <- ELs, <- EdLs; apply (shaped_same arch); assumption).
  destruct (F2_app_inv _ _ _ _ _ Hsame Hl2) as [HF1 HF2].
  assert (HOut : same_shape Out dOut) by (inversion HF2; assumption).
  (* the output as a function of t *)
  assert (Eout : forall t, net_out (nlin t Ls dLs) x = pre (llin t Out dOut) (hidden (nlin t Hs dHs) x)).
  { intros t. unfold net_out. rewrite ELs, EdLs, nlin_app by exact Hl2. change (nlin t [Out] [dOut]) with [llin t Out dOut].
    rewrite removelast_last, last_last. reflexivity. }
  apply (d_ext (fun t => sqerr (n_out arch) (pre (llin t Out dOut) (hidden (nlin t Hs dHs) x)) y)); [intros t; rewrite Eout; reflexivity|].
  set (dh := thidden Hs dHs x (repeat 0 (length x))).
  assert (Dh : vderiv (fun t => hidden (nlin t Hs dHs) x) dh).
  { apply (vderiv_hidden Hs dHs (fun _ => x)); [exact HF1 | apply vderiv_const | exact Hnt]. }
  assert (Do : vderiv (fun t => pre (llin t Out dOut) (hidden (nlin t Hs dHs) x)) (tpre Out dOut (hidden (nlin 0 Hs dHs) x) dh))
    by (apply vderiv_pre; [exact HOut | exact Dh]).
  eapply d_eq; [apply (is_derive_sqerr _ _ _ _ Do)|].
  cbv beta. rewrite llin_0, nlin_0 by assumption.
  (* the shapes *)
  pose proof (shaped_length _ _ HLs) as HLa.
  destruct arch as [|a rest]; [simpl in HLa; lia|]. simpl in Hx.
  assert (Hrest : rest <> []) by (intros ->; simpl in HLa; destruct Ls; [contradiction | simpl in HLa; lia]).
  assert (Hy' : length y = last rest a).
  { rewrite Hy. unfold n_out. destruct rest as [|b r]; [contradiction|]. change (last (b :: r) 0%nat = last (b :: r) a). apply last_cons_default. }
  rewrite ELs in HLs. rewrite EdLs in HdLs.
  pose proof (grads_adjoint Hs dHs Out dOut a rest x y (repeat 0 (length x)) HLs HdLs Hx Hy' ltac:(rewrite repeat_length; lia)) as A.
  cbv zeta in A. rewrite (dot_comm (snd (grads Hs Out x y))), dot_repeat_0, Rplus_0_r in A.
  unfold net_grads. fold Hs Out. rewrite EdLs, A. fold dh.
  symmetry. apply dot_out_error; [|exact Hy].
  rewrite pre_length. exact (shaped_last_length Hs (a :: rest) Out HLs).
Qed.

(* ---------- coordinates of theta: partial derivatives ---------- *)

(* e_i in R^n *)
Definition unit_vec (i n : nat) : list R := map (fun j => if Nat.eq_dec j i then 1 else 0) (seq 0 n).

Lemma dot_unit_vec : forall g i n, (length g <= n)%nat -> (i < n)%nat -> dot g (unit_vec i n) = nth i g 0.
Proof.
  intros g i n Hg Hi. rewrite (dot_sumn g _ n Hg).
  rewrite (sumn_ext n _ (fun j => if Nat.eq_dec j i then nth j g 0 else 0))
    by (intros j Hj; unfold unit_vec; rewrite nth_map_seq by exact Hj; destruct (Nat.eq_dec j i); ring).
  clear Hg. induction n as [|n IH]; [lia|]. simpl.
  destruct (Nat.eq_dec n i) as [->|Hne].
  - rewrite sumn_zero; [ring|]. intros j Hj. destruct (Nat.eq_dec j i); [lia | reflexivity].
  - rewrite IH by lia. ring.
Qed.

Lemma vlin_app : forall t A B C D, length A = length C -> vlin t (A ++ B) (C ++ D) = vlin t A C ++ vlin t B D.
Proof. intros t A; induction A as [|u A IH]; intros B [|v C] D H; simpl in *; try discriminate; [reflexivity|]. unfold vlin in *; simpl. rewrite IH by lia. reflexivity. Qed.

Lemma flat_llin : forall t L dL, same_shape L dL -> flat_layer (llin t L dL) = vlin t (flat_layer L) (flat_layer dL).
Proof.
  intros t L dL H. unfold flat_layer.
  assert (Hc : length (concat (map fst L)) = length (concat (map fst dL))).
  { induction H as [|p q L dL Hpq H IH]; simpl; [reflexivity|]. rewrite !app_length, Hpq, IH. reflexivity. }
  rewrite vlin_app by exact Hc. clear Hc. f_equal.
  - induction H as [|p q L dL Hpq H IH]; [reflexivity|]. unfold llin in *; simpl. rewrite vlin_app by exact Hpq. rewrite IH. reflexivity.
  - induction H as [|p q L dL Hpq H IH]; [reflexivity|]. unfold llin, vlin in *; simpl. rewrite IH. reflexivity.
Qed.

Lemma flat_layer_same_length : forall L dL, same_shape L dL -> length (flat_layer L) = length (flat_layer dL).
Proof.
  intros L dL H; unfold flat_layer; rewrite !app_length, !map_length.
  induction H as [|p q L dL Hpq H IH]; simpl; [reflexivity|]. rewrite !app_length, Hpq. lia.
Qed.

Lemma flatten_nlin : forall t Ls dLs, Forall2 same_shape Ls dLs -> flatten (nlin t Ls dLs) = vlin t (flatten Ls) (flatten dLs).
Proof.
  intros t Ls dLs H; induction H as [|L dL Ls dLs HL H IH]; [reflexivity|].
  change (flatten (nlin t (L :: Ls) (dL :: dLs))) with (flat_layer (llin t L dL) ++ flatten (nlin t Ls dLs)).
  change (flatten (L :: Ls)) with (flat_layer L ++ flatten Ls). change (flatten (dL :: dLs)) with (flat_layer dL ++ flatten dLs).
  rewrite vlin_app by (apply flat_layer_same_length; exact HL). rewrite IH, flat_llin by exact HL. reflexivity.
Qed.

Lemma lshape_llin : forall t a b L dL, lshape a b L -> lshape a b dL -> lshape a b (llin t L dL).
Proof.
  intros t a b L dL [HL HLf] [HdL HdLf]. split; [rewrite llin_length; lia|].
  clear HL HdL. revert dL HdLf. induction HLf as [|p L Hp HLf IH]; intros [|q dL] HdLf; constructor.
  - simpl. rewrite vlin_length, Hp, (Forall_inv HdLf). lia.
  - apply IH. exact (Forall_inv_tail HdLf).
Qed.

Lemma shaped_nlin : forall t arch Ls dLs, shaped arch Ls -> shaped arch dLs -> shaped arch (nlin t Ls dLs).
Proof.
  intros t arch Ls dLs H; revert dLs; induction H as [a|a b rest L Ls HL HLs IH]; intros dLs Hd.
  - constructor.
  - inversion Hd as [|a' b' rest' dL dLs' HdL HdLs]; subst. unfold nlin; simpl. constructor.
    + apply lshape_llin; assumption.
    + apply IH. exact HdLs.
Qed.

(* theta + t e_i, as layers *)
Lemma unflatten_vlin : forall arch th d t, length th = nparams arch -> length d = nparams arch -> arch <> [] ->
  unflatten arch (vlin t th d) = nlin t (unflatten arch th) (unflatten arch d).
Proof.
  intros arch th d t Hth Hd Ha.
  assert (S1 : shaped arch (unflatten arch th)) by (apply unflatten_shaped; [exact Ha | lia]).
  assert (S2 : shaped arch (unflatten arch d)) by (apply unflatten_shaped; [exact Ha | lia]).
  rewrite <- (unflatten_flatten arch (nlin t _ _) (shaped_nlin t arch _ _ S1 S2)).
  rewrite flatten_nlin by (apply (shaped_same arch); assumption).
  rewrite !flatten_unflatten by assumption. reflexivity.
Qed.

(* Gradient soundness for one sample: off ties, coordinate i of the flat `grads` is the
   partial derivative of the sample's loss |N_theta(x) - y|^2 in theta_i. *)
Theorem grads_partial_derivative : forall arch th x y i,
  length th = nparams arch -> (2 <= length arch)%nat -> length x = hd 0%nat arch -> length y = n_out arch ->
  no_tie (removelast (unflatten arch th)) x -> (i < nparams arch)%nat ->
  is_derive (fun t => sqerr (n_out arch) (net_out (unflatten arch (vlin t th (unit_vec i (nparams arch)))) x) y) 0
            (nth i (flatten (net_grads (unflatten arch th) x y)) 0).
Proof.
  intros arch th x y i Hth Ha Hx Hy Hnt Hi.
  assert (Hne : arch <> []) by (destruct arch; simpl in Ha; [lia | discriminate]).
  assert (He : length (unit_vec i (nparams arch)) = nparams arch) by (unfold unit_vec; rewrite map_length, seq_length; reflexivity).
  assert (S1 : shaped arch (unflatten arch th)) by (apply unflatten_shaped; [exact Hne | lia]).
  assert (S2 : shaped arch (unflatten arch (unit_vec i (nparams arch)))) by (apply unflatten_shaped; [exact Hne | lia]).
  assert (HLne : unflatten arch th <> []).
  { intros E. apply shaped_length in S1. rewrite E in S1. simpl in S1. lia. }
  apply (d_ext (fun t => sqerr (n_out arch) (net_out (nlin t (unflatten arch th) (unflatten arch (unit_vec i (nparams arch)))) x) y));
    [intros t; rewrite unflatten_vlin by assumption; reflexivity|].
  eapply d_eq; [apply (grads_directional_derivative arch); assumption|].
  rewrite flatten_unflatten by exact He. apply dot_unit_vec; [|exact Hi].
  rewrite (flatten_length arch); [lia|]. apply net_grads_shaped; assumption.
Qed.

Lemma is_derive_sumR : forall {A} (f : R -> A -> R) (df : A -> R) l,
  (forall a, In a l -> is_derive (fun t => f t a) 0 (df a)) -> is_derive (fun t => sumR (map (f t) l)) 0 (sumR (map df l)).
Proof.
  intros A f df l H; induction l as [|a l IH]; simpl; [apply d_const|].
  apply (d_plus (fun t => f t a) (fun t => sumR (map (f t) l))); [apply H; left; reflexivity | apply IH; intros; apply H; right; assumption].
Qed.

(* Gradient soundness for the empirical risk: off ties on the data, coordinate i of the
   mean of the samples' `grads` (the full-batch gradient `flat_grad arch Mean data`) is
   the partial derivative of R(theta) in theta_i. *)
Theorem risk_partial_derivative : forall arch th data i,
  length th = nparams arch -> (2 <= length arch)%nat -> data_shaped arch data ->
  Forall (fun s => no_tie (removelast (unflatten arch th)) (fst s)) data -> (i < nparams arch)%nat ->
  is_derive (fun t => risk arch (unflatten arch (vlin t th (unit_vec i (nparams arch)))) data) 0
            (nth i (flat_grad arch Mean data th) 0).
Proof.
  intros arch th data i Hth Ha Hd Hnt Hi.
  unfold flat_grad. rewrite nth_map_seq by exact Hi. simpl batch_scale.
  unfold risk.
  apply (d_ext (fun t => / INR (length data) * sumR (map (fun s => sqerr (n_out arch) (net_out (unflatten arch (vlin t th (unit_vec i (nparams arch)))) (fst s)) (snd s)) data)));
    [intros t; unfold Rdiv; ring|].
  apply is_derive_scal.
  apply (is_derive_sumR (fun t s => sqerr (n_out arch) (net_out (unflatten arch (vlin t th (unit_vec i (nparams arch)))) (fst s)) (snd s))).
  intros s Hs. unfold data_shaped in Hd. rewrite Forall_forall in Hd, Hnt. destruct (Hd s Hs) as [Hx Hy].
  apply grads_partial_derivative; auto.
Qed.
