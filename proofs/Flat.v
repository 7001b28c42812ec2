(* The parameter vector of MECHANISM.md and the network it encodes. For an architecture
   arch = [l_0; l_1; ...; l_L] the parameters are theta in R^D, D = sum_k l_k (l_{k-1} + 1),
   laid out layer by layer: the weight matrix W_k row-major (row j = the incoming weights
   of neuron j), then the bias vector B_k (PyTorch's state_dict order of an nn.Sequential
   of nn.Linear). `flatten` and `unflatten` convert between this vector and the layers of
   Network.v; `shaped` says a list of layers has the architecture's shape. The gradient of
   Network.v has the network's shape, so its flat form is aligned with theta, and a zero
   gradient of the layers 1..k is a zero prefix of the flat gradient.
   Rust: Network::from_params / Network::params (src/net/mod.rs). *)

Require Import Reals List Lra Lia.
Require Import DeadRelu.Network DeadRelu.Mechanism.
Import ListNotations.
Open Scope R_scope.

(* ---------- layout ---------- *)

Fixpoint nparams (arch : list nat) : nat :=
  match arch with
  | a :: ((b :: _) as rest) => (b * (a + 1) + nparams rest)%nat
  | _ => 0%nat
  end.

Definition flat_layer (L : layer) : list R := concat (map fst L) ++ map snd L.
Definition flatten (Ls : list layer) : list R := concat (map flat_layer Ls).

Fixpoint rows {A : Type} (n_in n_out : nat) (th : list A) : list (list A) :=
  match n_out with
  | O => []
  | S j => firstn n_in th :: rows n_in j (skipn n_in th)
  end.

Definition unflat_layer {A : Type} (n_in n_out : nat) (th : list A) : list (list A * A) :=
  combine (rows n_in n_out th) (firstn n_out (skipn (n_out * n_in) th)).

Fixpoint unflatten {A : Type} (arch : list nat) (th : list A) : list (list (list A * A)) :=
  match arch with
  | a :: ((b :: _) as rest) => unflat_layer a b th :: unflatten rest (skipn (b * (a + 1)) th)
  | _ => []
  end.

(* a layer with n_in inputs and n_out neurons; a network of architecture arch *)
Definition lshape (n_in n_out : nat) (L : layer) : Prop :=
  length L = n_out /\ Forall (fun nj => length (fst nj) = n_in) L.

Inductive shaped : list nat -> list layer -> Prop :=
| shaped_out : forall a, shaped [a] []
| shaped_cons : forall a b rest L Ls, lshape a b L -> shaped (b :: rest) Ls -> shaped (a :: b :: rest) (L :: Ls).

(* the whole network as one list of layers: hidden layers, then the output layer *)
Definition net_out (Ls : list layer) (x : list R) : list R := realize (removelast Ls) (last Ls []) x.

(* the generalized gradient of one sample's loss, one lgrad per layer (same order) *)
Definition net_grads (Ls : list layer) (x y : list R) : list lgrad :=
  let r := grads (removelast Ls) (last Ls []) x y in fst (fst r) ++ [snd (fst r)].

(* ---------- list facts ---------- *)

Lemma firstn_agree_le : forall (l l' : list R) n m, firstn n l = firstn n l' -> (m <= n)%nat -> firstn m l = firstn m l'.
Proof.
  intros l l' n m H Hm. replace m with (Nat.min m n) by lia. rewrite <- !firstn_firstn, H. reflexivity.
Qed.

Lemma firstn_agree_skipn : forall (l l' : list R) n m, firstn n l = firstn n l' ->
  firstn (n - m) (skipn m l) = firstn (n - m) (skipn m l').
Proof. intros l l' n m H. rewrite <- !skipn_firstn_comm, H. reflexivity. Qed.

Lemma nth_map_seq : forall {A} (f : nat -> A) n i d, (i < n)%nat -> nth i (map f (seq 0 n)) d = f i.
Proof.
  intros A f n i d Hi. rewrite nth_indep with (d' := f 0%nat) by (rewrite map_length, seq_length; exact Hi).
  rewrite map_nth, seq_nth by exact Hi. reflexivity.
Qed.

(* ---------- shapes and lengths ---------- *)

Lemma rows_length : forall a b (th : list R), length (rows a b th) = b.
Proof. intros a b; induction b as [|b IH]; intros th; simpl; auto. Qed.

Lemma rows_shape : forall a b (th : list R), (b * a <= length th)%nat -> Forall (fun r => length r = a) (rows a b th).
Proof.
  intros a b; induction b as [|b IH]; intros th H; simpl; constructor.
  - rewrite firstn_length. simpl in H. lia.
  - apply IH. rewrite skipn_length. simpl in H. lia.
Qed.

Lemma unflat_layer_shape : forall a b (th : list R), (b * (a + 1) <= length th)%nat -> lshape a b (unflat_layer a b th).
Proof.
  intros a b th H. unfold lshape, unflat_layer. split.
  - rewrite combine_length, rows_length, firstn_length, skipn_length. lia.
  - apply Forall_forall. intros [r c] Hin. simpl. apply in_combine_l in Hin.
    pose proof (rows_shape a b th) as F. rewrite Forall_forall in F. apply F; [lia | exact Hin].
Qed.

Lemma nparams_ge_first : forall a b rest, (b * (a + 1) <= nparams (a :: b :: rest))%nat.
Proof. intros; simpl; lia. Qed.

Theorem unflatten_shaped : forall arch (th : list R), arch <> [] -> (nparams arch <= length th)%nat -> shaped arch (unflatten arch th).
Proof.
  induction arch as [|a rest IH]; intros th Hne H; [contradiction|].
  destruct rest as [|b rest]; simpl; [constructor|].
  constructor.
  - apply unflat_layer_shape. simpl in H. lia.
  - apply IH; [discriminate|]. rewrite skipn_length. simpl in H. simpl. lia.
Qed.

Lemma flat_layer_length : forall a b L, lshape a b L -> length (flat_layer L) = (b * (a + 1))%nat.
Proof.
  intros a b L [HL HF]. unfold flat_layer. rewrite app_length, map_length, HL.
  assert (length (concat (map fst L)) = b * a)%nat as ->; [|lia].
  subst b. induction HF as [|nj L Hnj HF IH]; simpl; [reflexivity|].
  rewrite app_length, IH, Hnj. lia.
Qed.

Theorem flatten_length : forall arch Ls, shaped arch Ls -> length (flatten Ls) = nparams arch.
Proof.
  intros arch Ls H; induction H as [a|a b rest L Ls HL HLs IH]; simpl; [reflexivity|].
  unfold flatten in *. simpl. rewrite app_length, IH, (flat_layer_length a b L HL). reflexivity.
Qed.

Lemma flatten_app : forall A B, flatten (A ++ B) = flatten A ++ flatten B.
Proof. intros; unfold flatten; rewrite map_app, concat_app; reflexivity. Qed.

Lemma shaped_firstn : forall arch Ls k, shaped arch Ls -> shaped (firstn (S k) arch) (firstn k Ls).
Proof.
  intros arch Ls k H; revert k; induction H as [a|a b rest L Ls HL HLs IH]; intros k.
  - destruct k; simpl; constructor.
  - destruct k as [|k]; simpl; [constructor|]. constructor; [exact HL|]. exact (IH k).
Qed.

Lemma shaped_length : forall arch Ls, shaped arch Ls -> S (length Ls) = length arch.
Proof. intros arch Ls H; induction H; simpl in *; lia. Qed.

(* ---------- the flat vector and its layers ---------- *)

(* flatten and unflatten are inverse: theta is exactly the flat form of its layers *)
Lemma concat_rows : forall a b (th : list R), (b * a <= length th)%nat -> concat (rows a b th) = firstn (b * a) th.
Proof.
  intros a b; induction b as [|b IH]; intros th H; simpl; [reflexivity|].
  rewrite IH by (rewrite skipn_length; simpl in H; lia).
  rewrite <- (firstn_skipn a th) at 3. rewrite firstn_app, firstn_firstn, firstn_length.
  try replace (Nat.min a (length th)) with a by lia. try replace (Nat.min (a + b * a) a) with a by lia.
  replace (a + b * a - a)%nat with (b * a)%nat by lia. reflexivity.
Qed.

Lemma map_fst_combine_eq : forall {A B} (l : list A) (l' : list B), length l = length l' -> map fst (combine l l') = l.
Proof. intros A B l; induction l as [|x l IH]; intros [|y l'] H; simpl in *; try discriminate; auto. f_equal; auto. Qed.

Lemma map_snd_combine_eq : forall {A B} (l : list A) (l' : list B), length l = length l' -> map snd (combine l l') = l'.
Proof. intros A B l; induction l as [|x l IH]; intros [|y l'] H; simpl in *; try discriminate; auto. f_equal; auto. Qed.

Lemma flat_unflat_layer : forall a b (th : list R), (b * (a + 1) <= length th)%nat ->
  flat_layer (unflat_layer a b th) = firstn (b * (a + 1)) th.
Proof.
  intros a b th H. unfold flat_layer, unflat_layer.
  assert (Hl : length (rows a b th) = length (firstn b (skipn (b * a) th)))
    by (rewrite rows_length, firstn_length, skipn_length; lia).
  rewrite map_fst_combine_eq, map_snd_combine_eq by exact Hl.
  rewrite concat_rows by lia.
  rewrite <- (firstn_skipn (b * a) th) at 3. rewrite firstn_app, firstn_firstn, firstn_length.
  replace (Nat.min (b * (a + 1)) (b * a)) with (b * a)%nat by lia.
  replace (Nat.min (b * a) (length th)) with (b * a)%nat by lia.
  f_equal. f_equal. lia.
Qed.

Theorem flatten_unflatten : forall arch (th : list R), length th = nparams arch -> flatten (unflatten arch th) = th.
Proof.
  induction arch as [|a rest IH]; intros th H.
  - destruct th; [reflexivity | discriminate].
  - destruct rest as [|b rest].
    + destruct th; [reflexivity | discriminate].
    + change (flatten (unflatten (a :: b :: rest) th))
        with (flat_layer (unflat_layer a b th) ++ flatten (unflatten (b :: rest) (skipn (b * (a + 1)) th))).
      simpl in H. rewrite flat_unflat_layer by lia.
      rewrite IH by (rewrite skipn_length; simpl; lia). apply firstn_skipn.
Qed.

Lemma rows_flat : forall a (L : layer), Forall (fun nj => length (fst nj) = a) L ->
  forall rest, rows a (length L) (concat (map fst L) ++ rest) = map fst L.
Proof.
  intros a L HF; induction HF as [|nj L Hnj HF IH]; intros rest; simpl; [reflexivity|].
  rewrite <- app_assoc, firstn_app, Hnj, Nat.sub_diag, firstn_O, app_nil_r, firstn_all2 by lia.
  rewrite skipn_app, Hnj, Nat.sub_diag, skipn_O, skipn_all2 by lia. simpl. f_equal. apply IH.
Qed.

Lemma combine_fst_snd : forall {A B} (l : list (A * B)), combine (map fst l) (map snd l) = l.
Proof. intros A B l; induction l as [|[x y] l IH]; simpl; f_equal; auto. Qed.

Lemma unflat_flat_layer : forall a b L rest, lshape a b L -> unflat_layer a b (flat_layer L ++ rest) = L.
Proof.
  intros a b L rest [HL HF]. unfold unflat_layer, flat_layer. subst b.
  rewrite <- app_assoc, rows_flat by exact HF.
  assert (Hc : length (concat (map fst L)) = (length L * a)%nat).
  { clear rest. induction HF as [|nj L Hnj HF IH]; simpl; [reflexivity|]. rewrite app_length, IH, Hnj. lia. }
  rewrite skipn_app, Hc, Nat.sub_diag, skipn_O, skipn_all2 by lia. simpl.
  rewrite firstn_app, map_length, Nat.sub_diag, firstn_O, app_nil_r, firstn_all2 by (rewrite map_length; lia).
  apply combine_fst_snd.
Qed.

Theorem unflatten_flatten : forall arch Ls, shaped arch Ls -> unflatten arch (flatten Ls) = Ls.
Proof.
  intros arch Ls H; induction H as [a|a b rest L Ls HL HLs IH]; [reflexivity|].
  change (unflatten (a :: b :: rest) (flatten (L :: Ls)))
    with (unflat_layer a b (flat_layer L ++ flatten Ls) :: unflatten (b :: rest) (skipn (b * (a + 1)) (flat_layer L ++ flatten Ls))).
  rewrite unflat_flat_layer by exact HL.
  rewrite skipn_app, (flat_layer_length a b L HL), Nat.sub_diag, skipn_O, skipn_all2 by (rewrite (flat_layer_length a b L HL); lia).
  rewrite app_nil_l, IH. reflexivity.
Qed.

(* the first k layers are the unflattening of the first nparams (l_0 .. l_k) coordinates *)
Lemma firstn_unflatten : forall k arch (th : list R), firstn k (unflatten arch th) = unflatten (firstn (S k) arch) th.
Proof.
  induction k as [|k IH]; intros arch th.
  - destruct arch as [|a [|b rest]]; reflexivity.
  - destruct arch as [|a [|b rest]]; [reflexivity | destruct k; reflexivity |].
    change (firstn (S k) (unflatten (a :: b :: rest) th))
      with (unflat_layer a b th :: firstn k (unflatten (b :: rest) (skipn (b * (a + 1)) th))).
    rewrite IH. reflexivity.
Qed.

Lemma rows_prefix : forall a b (th th' : list R), firstn (b * a) th = firstn (b * a) th' -> rows a b th = rows a b th'.
Proof.
  intros a b; induction b as [|b IH]; intros th th' H; simpl; [reflexivity|].
  f_equal.
  - apply (firstn_agree_le _ _ (S b * a)); [exact H | simpl; lia].
  - apply IH. pose proof (firstn_agree_skipn _ _ (S b * a) a H) as H'.
    replace (S b * a - a)%nat with (b * a)%nat in H' by (simpl; lia). exact H'.
Qed.

Lemma unflat_layer_prefix : forall a b (th th' : list R), firstn (b * (a + 1)) th = firstn (b * (a + 1)) th' ->
  unflat_layer a b th = unflat_layer a b th'.
Proof.
  intros a b th th' H. unfold unflat_layer. f_equal.
  - apply rows_prefix. apply (firstn_agree_le _ _ _ _ H). lia.
  - pose proof (firstn_agree_skipn _ _ _ (b * a) H) as H'.
    replace (b * (a + 1) - b * a)%nat with b in H' by lia. exact H'.
Qed.

(* the layers encoded by theta depend only on the coordinates they use *)
Theorem unflatten_prefix : forall arch (th th' : list R), firstn (nparams arch) th = firstn (nparams arch) th' ->
  unflatten arch th = unflatten arch th'.
Proof.
  induction arch as [|a rest IH]; intros th th' H; [reflexivity|].
  destruct rest as [|b rest]; [reflexivity|].
  change (unflat_layer a b th :: unflatten (b :: rest) (skipn (b * (a + 1)) th) =
          unflat_layer a b th' :: unflatten (b :: rest) (skipn (b * (a + 1)) th')).
  change (nparams (a :: b :: rest)) with (b * (a + 1) + nparams (b :: rest))%nat in H. f_equal.
  - apply unflat_layer_prefix. apply (firstn_agree_le _ _ _ _ H). lia.
  - apply IH. pose proof (firstn_agree_skipn _ _ _ (b * (a + 1)) H) as H'.
    replace (b * (a + 1) + nparams (b :: rest) - b * (a + 1))%nat with (nparams (b :: rest)) in H' by lia.
    exact H'.
Qed.

(* ---------- the gradient has the network's shape ---------- *)

Lemma layer_grad_shape : forall delta input, lshape (length input) (length delta) (layer_grad delta input).
Proof.
  intros delta input. unfold layer_grad, lshape. rewrite map_length. split; [reflexivity|].
  apply Forall_forall. intros p Hp. apply in_map_iff in Hp. destruct Hp as [d [<- _]]. simpl. apply map_length.
Qed.

Lemma vadd_length : forall u v, length (vadd u v) = Nat.min (length u) (length v).
Proof. induction u as [|a u IH]; intros [|b v]; simpl; auto. Qed.

Lemma backvec_length : forall L delta n, Forall (fun nj => length (fst nj) = n) L -> length (backvec L delta n) = n.
Proof.
  intros L delta n H; revert delta; induction H as [|nj L Hnj H IH]; intros [|d delta]; simpl;
    try apply repeat_length.
  rewrite vadd_length, map_length, Hnj, IH. lia.
Qed.

Lemma zipmul_length : forall u v, length (zipmul u v) = Nat.min (length u) (length v).
Proof. induction u as [|a u IH]; intros [|b v]; simpl; auto. Qed.

Lemma out_error_length : forall o y, length (out_error o y) = Nat.min (length o) (length y).
Proof. intros; unfold out_error; rewrite map_length, combine_length; reflexivity. Qed.

Lemma last_cons_default : forall (l : list nat) a d d', last (a :: l) d = last (a :: l) d'.
Proof. induction l as [|b l IH]; intros a d d'; [reflexivity|]. change (last (b :: l) d = last (b :: l) d'). apply IH. Qed.

Lemma grads_shape : forall Hs Out a rest x y,
  shaped (a :: rest) (Hs ++ [Out]) -> length x = a -> length y = last rest a ->
  let r := grads Hs Out x y in shaped (a :: rest) (fst (fst r) ++ [snd (fst r)]) /\ length (snd r) = a.
Proof.
  induction Hs as [|L Hs IH]; intros Out a rest x y Hsh Hx Hy; simpl.
  - inversion Hsh as [|a' b rest' L' Ls' HL HLs]; subst. inversion HLs; subst. simpl in Hy.
    destruct HL as [HLl HLf]. split.
    + constructor; [|constructor].
      pose proof (layer_grad_shape (out_error (pre Out x) y) x) as G.
      rewrite out_error_length, pre_length, HLl, Hy, Nat.min_id in G. exact G.
    + apply backvec_length. exact HLf.
  - inversion Hsh as [|a' b rest' L' Ls' HL HLs]; subst. pose proof HL as [HLl HLf].
    assert (Hx' : length (map relu (pre L x)) = b) by (rewrite map_length, pre_length; exact HLl).
    assert (Hy' : length y = last rest' b)
      by (rewrite Hy; destruct rest' as [|n r]; [reflexivity | change (last (n :: r) (length x) = last (n :: r) b); apply last_cons_default]).
    destruct (IH Out b rest' (map relu (pre L x)) y HLs Hx' Hy') as [G1 G2].
    destruct (grads Hs Out (map relu (pre L x)) y) as [[gs gout] da]. simpl in *. split.
    + constructor; [|exact G1].
      pose proof (layer_grad_shape (zipmul (map relu' (pre L x)) da) x) as G.
      rewrite zipmul_length, map_length, pre_length, HLl, G2, Nat.min_id in G. exact G.
    + apply backvec_length. exact HLf.
Qed.

Lemma split_last : forall (Ls : list layer), Ls <> [] -> Ls = removelast Ls ++ [last Ls []].
Proof. intros Ls H. apply app_removelast_last. exact H. Qed.

Theorem net_grads_shaped : forall arch Ls x y, Ls <> [] -> shaped arch Ls -> length x = hd 0%nat arch ->
  length y = last arch 0%nat -> shaped arch (net_grads Ls x y).
Proof.
  intros arch Ls x y Hne H Hx Hy. destruct arch as [|a rest]; [inversion H|].
  rewrite (split_last Ls Hne) in H. unfold net_grads.
  apply (grads_shape (removelast Ls) (last Ls []) a rest x y H Hx).
  rewrite Hy. destruct rest as [|n r]; [reflexivity|].
  change (last (n :: r) 0%nat = last (n :: r) a). apply last_cons_default.
Qed.

(* ---------- a dead layer, read off the list of layers ---------- *)

(* hidden layer k (1-based) of the network Ls is dead at x *)
Definition layer_dead (k : nat) (Ls : list layer) (x : list R) : Prop :=
  dead_at (removelast (firstn k Ls)) (last (firstn k Ls) []) x.

Lemma split_at_dead : forall (Ls : list layer) k, (1 <= k < length Ls)%nat ->
  removelast Ls = removelast (firstn k Ls) ++ last (firstn k Ls) [] :: skipn k (removelast Ls)
  /\ length (removelast (firstn k Ls)) = (k - 1)%nat.
Proof.
  intros Ls k Hk. split.
  - rewrite <- (firstn_skipn k (removelast Ls)) at 1. rewrite firstn_removelast by lia.
    assert (Hne : firstn k Ls <> []) by (destruct Ls, k; simpl in *; try lia; discriminate).
    rewrite (app_removelast_last [] Hne) at 1. rewrite <- app_assoc. reflexivity.
  - rewrite removelast_firstn_len, !firstn_length. lia.
Qed.

(* Fact 1 on the list of layers: a dead layer k makes the realization one constant *)
Theorem net_out_constant : forall (Ls : list layer) k x, (1 <= k < length Ls)%nat -> layer_dead k Ls x ->
  net_out Ls x = pre (last Ls []) (hidden (skipn k (removelast Ls)) (repeat 0 (length (last (firstn k Ls) [])))).
Proof.
  intros Ls k x Hk Hd. destruct (split_at_dead Ls k Hk) as [E _]. unfold net_out.
  set (Q := skipn k (removelast Ls)) in *. rewrite E.
  apply constant_realization. exact Hd.
Qed.

(* Fact 2 on the list of layers: the gradient of layers 1..k is zero *)
Theorem net_grads_frozen : forall (Ls : list layer) k x y, (1 <= k < length Ls)%nat -> layer_dead k Ls x ->
  Forall lgrad_zero (firstn k (net_grads Ls x y)).
Proof.
  intros Ls k x y Hk Hd. destruct (split_at_dead Ls k Hk) as [E Hl]. unfold net_grads.
  set (Q := skipn k (removelast Ls)) in *. rewrite E. set (P := removelast (firstn k Ls)) in *. set (D := last (firstn k Ls) []) in *.
  destruct (frozen_gradient_sample P Q D (last Ls []) x y Hd) as [A _].
  replace (S (length P)) with k in A by lia.
  rewrite firstn_app.
  rewrite (grads_length (last Ls []) (P ++ D :: Q)), app_length, Hl. simpl length.
  replace (k - (k - 1 + S (length Q)))%nat with 0%nat by lia.
  rewrite firstn_O, app_nil_r. exact A.
Qed.

(* zero gradients of layers 1..k give a zero prefix of length nparams [l_0; ...; l_k] *)
Theorem zero_layers_zero_prefix : forall arch (G : list lgrad) k i, shaped arch G ->
  Forall lgrad_zero (firstn k G) -> (i < nparams (firstn (S k) arch))%nat -> nth i (flatten G) 0 = 0.
Proof.
  intros arch G k i Hs Hz Hi.
  rewrite <- (firstn_skipn k G), flatten_app.
  rewrite <- (flatten_length _ _ (shaped_firstn arch G k Hs)) in Hi.
  rewrite app_nth1 by exact Hi.
  assert (Hall : all_zero (flatten (firstn k G))).
  { clear Hi Hs. induction Hz as [|g G' Hg Hz IH]; [constructor|].
    unfold flatten; simpl; unfold all_zero; apply Forall_app; split; [|exact IH].
    unfold flat_layer; apply Forall_app; split.
    - induction Hg as [|p g' Hp Hg IHg]; simpl; [constructor|]. apply Forall_app; split; [apply Hp | exact IHg].
    - induction Hg as [|p g' Hp Hg IHg]; simpl; constructor; [apply Hp | exact IHg]. }
  unfold all_zero in Hall. rewrite Forall_forall in Hall. apply Hall. apply nth_In. exact Hi.
Qed.
