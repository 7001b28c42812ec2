(* Facts 3 and 4 of MECHANISM.md for whole training runs, with nothing assumed: an
   optimizer of Optimizers.v applied to every coordinate of the flat parameter vector
   theta (Flat.v), fed at step n the gradient of the loss of the batch drawn at step n
   (the sum or the mean of the samples' losses). If hidden layer k is dead on the data at
   theta_0, then at every step the coordinates of layers 1..k have not moved, layer k is
   dead, the realization is constant on the data and the risk is >= V; every limit point
   of the trajectory keeps those coordinates too, so if some parameter has risk < V, no
   iterate and no limit point is a global minimizer. One closed theorem per optimizer
   (`*_trains_dead`), checked by `Print Assumptions` in Assumptions.v.
   Rust: src/optim/*.rs, train.rs, audit::mechanism::run_optimizer; tests/optimizers.rs,
   tests/audit.rs. *)

Require Import Reals List Lra Lia.
Require Import DeadRelu.Network DeadRelu.Mechanism DeadRelu.Flat DeadRelu.Risk DeadRelu.Optimizers.
Import ListNotations.
Open Scope R_scope.

(* ---------- the gradient a training step sees ---------- *)

(* the batch loss: the sum of the samples' losses, or their mean (PyTorch's default) *)
Inductive reduction := Sum | Mean.
Definition batch_scale (red : reduction) (B : list sample) : R :=
  match red with Sum => 1 | Mean => / INR (length B) end.

(* the flat gradient, in theta's layout, of the batch loss at theta *)
Definition flat_grad (arch : list nat) (red : reduction) (B : list sample) (th : list R) : list R :=
  map (fun i => batch_scale red B * sumR (map (fun s => nth i (flatten (net_grads (unflatten arch th) (fst s) (snd s))) 0) B))
      (seq 0 (nparams arch)).

(* ---------- an optimizer on the whole parameter vector ---------- *)

Section Vector.
Variable o : coord_opt.

(* one step on every coordinate: coordinate i has state ss_i, value th_i, gradient g_i *)
Definition vstep (t : nat) (ss : list (state o)) (th g : list R) : list (state o) * list R :=
  (map (fun i => fst (step o t (nth i ss (init o)) (nth i th 0) (nth i g 0))) (seq 0 (length th)),
   map (fun i => snd (step o t (nth i ss (init o)) (nth i th 0) (nth i g 0))) (seq 0 (length th))).

(* the trajectory: zero initial state; at step n + 1 the gradient grad n at theta_n *)
Fixpoint train (grad : nat -> list R -> list R) (th0 : list R) (n : nat) : list (state o) * list R :=
  match n with
  | O => (repeat (init o) (length th0), th0)
  | S j => let r := train grad th0 j in vstep (S j) (fst r) (snd r) (grad j (snd r))
  end.

Lemma train_length : forall grad th0 n, length (snd (train grad th0 n)) = length th0.
Proof.
  intros grad th0 n; induction n as [|n IH]; simpl; [reflexivity|].
  rewrite map_length, seq_length. exact IH.
Qed.

(* each coordinate follows the scalar optimizer fed with its own gradients *)
Lemma train_coord : forall grad th0 n i, (i < length th0)%nat ->
  let g := fun j => nth i (grad j (snd (train grad th0 j))) 0 in
  nth i (fst (train grad th0 n)) (init o) = fst (run o g (nth i th0 0) n)
  /\ nth i (snd (train grad th0 n)) 0 = snd (run o g (nth i th0 0) n).
Proof.
  intros grad th0 n i Hi g. induction n as [|n [IH1 IH2]]; simpl.
  - split; [apply nth_repeat | reflexivity].
  - assert (Hl : (i < length (snd (train grad th0 n)))%nat) by (rewrite train_length; exact Hi).
    rewrite !nth_map_seq by exact Hl. rewrite IH1, IH2. split; reflexivity.
Qed.

End Vector.

(* ---------- the theorem, for any coordinate-frozen optimizer ---------- *)

(* every sample has l_0 inputs and l_L targets *)
Definition data_shaped (arch : list nat) (data : list sample) : Prop :=
  Forall (fun s => length (fst s) = hd 0%nat arch /\ length (snd s) = n_out arch) data.

(* p is a global minimizer of the empirical risk over R^D *)
Definition global_minimizer (arch : list nat) (data : list sample) (p : list R) : Prop :=
  forall q, length q = nparams arch -> risk arch (unflatten arch p) data <= risk arch (unflatten arch q) data.

(* convergence and limit points, coordinatewise (R^D with any of its equivalent norms) *)
Definition converges (th : nat -> list R) (p : list R) : Prop :=
  forall i, (i < length p)%nat -> Un_cv (fun n => nth i (th n) 0) (nth i p 0).
Definition limit_point (th : nat -> list R) (p : list R) : Prop :=
  forall eps, eps > 0 -> forall N, exists n, (n >= N)%nat /\ forall i, (i < length p)%nat -> Rabs (nth i (th n) 0 - nth i p 0) < eps.

(* The statement proved for every optimizer: for every architecture, data, dead layer k,
   theta_0 in R^D, batch loss (sum or mean) and sequence of batches drawn from the data. *)
Definition trains_dead (o : coord_opt) : Prop :=
  forall arch (data : list sample) k th0 red (batch : nat -> list sample),
    length th0 = nparams arch -> data_shaped arch data -> (1 <= k < length arch - 1)%nat ->
    (forall n s, In s (batch n) -> In s data) ->
    dead_on_data k (unflatten arch th0) data ->
    let th := fun n => snd (train o (fun j => flat_grad arch red (batch j)) th0 n) in
    let m := nparams (firstn (S k) arch) in
    (* at every step: layers 1..k unchanged, layer k dead, realization constant, risk >= V *)
    (forall n, firstn m (th n) = firstn m th0
       /\ dead_on_data k (unflatten arch (th n)) data
       /\ (exists c, forall s, In s data -> net_out (unflatten arch (th n)) (fst s) = c)
       /\ risk arch (unflatten arch (th n)) data >= V arch data)
    (* every limit point (in particular every limit): the same *)
    /\ (forall p, length p = nparams arch -> limit_point th p ->
          firstn m p = firstn m th0 /\ dead_on_data k (unflatten arch p) data
          /\ risk arch (unflatten arch p) data >= V arch data)
    (* so if some parameter beats V, no iterate and no limit point is a global minimizer *)
    /\ ((exists q, length q = nparams arch /\ risk arch (unflatten arch q) data < V arch data) ->
          (forall n, ~ global_minimizer arch data (th n))
          /\ (forall p, length p = nparams arch -> limit_point th p -> ~ global_minimizer arch data p)).

Lemma converges_limit_point : forall th p, converges th p -> limit_point th p.
Proof.
  intros th p Hc eps Heps N.
  assert (All : forall len, (len <= length p)%nat -> exists N0, forall n, (n >= N0)%nat ->
            forall i, (i < len)%nat -> Rabs (nth i (th n) 0 - nth i p 0) < eps).
  { induction len as [|len IH]; intros Hlen; [exists 0%nat; intros; lia|].
    destruct (IH ltac:(lia)) as [N1 H1]. destruct (Hc len ltac:(lia) eps Heps) as [N2 H2].
    exists (Nat.max N1 N2). intros n Hn i Hi. destruct (Nat.eq_dec i len) as [->|Hne].
    - apply H2. lia.
    - apply H1; lia. }
  destruct (All (length p) (le_n _)) as [N0 H0]. exists (Nat.max N N0). split; [lia|]. apply H0. lia.
Qed.

Lemma firstn_nth_ext : forall m (l l' : list R), length l = length l' ->
  (forall i, (i < m)%nat -> nth i l 0 = nth i l' 0) -> firstn m l = firstn m l'.
Proof.
  induction m as [|m IH]; intros l l' Hl H; [reflexivity|].
  destruct l as [|a l]; destruct l' as [|b l']; simpl in *; try discriminate; [reflexivity|].
  f_equal; [apply (H 0%nat); lia|]. apply IH; [lia|]. intros i Hi. apply (H (S i)). lia.
Qed.

Lemma firstn_eq_nth : forall m (l l' : list R) i, firstn m l = firstn m l' -> (i < m)%nat -> nth i l 0 = nth i l' 0.
Proof.
  intros m l l' i H Hi. rewrite <- (firstn_skipn m l), <- (firstn_skipn m l').
  destruct (Nat.lt_ge_cases i (length (firstn m l))) as [Hl|Hl].
  - rewrite !app_nth1; [rewrite H; reflexivity | rewrite <- H; exact Hl | exact Hl].
  - rewrite firstn_length in Hl. assert (length l <= i)%nat by lia.
    assert (length l' <= i)%nat.
    { assert (length (firstn m l) = length (firstn m l')) as E by (rewrite H; reflexivity).
      rewrite !firstn_length in E. lia. }
    rewrite firstn_skipn, firstn_skipn, !nth_overflow by lia. reflexivity.
Qed.

Lemma nparams_firstn_le : forall arch j, (nparams (firstn j arch) <= nparams arch)%nat.
Proof.
  induction arch as [|a rest IH]; intros j; [destruct j; simpl; lia|].
  destruct j as [|j]; [simpl; lia|]. destruct rest as [|b rest]; [destruct j; simpl; lia|].
  destruct j as [|j]; [simpl; lia|].
  change (firstn (S (S j)) (a :: b :: rest)) with (a :: firstn (S j) (b :: rest)).
  change (firstn (S j) (b :: rest)) with (b :: firstn j rest).
  change (nparams (a :: b :: firstn j rest) <= nparams (a :: b :: rest))%nat.
  change (nparams (a :: b :: firstn j rest)) with (b * (a + 1) + nparams (b :: firstn j rest))%nat.
  change (nparams (a :: b :: rest)) with (b * (a + 1) + nparams (b :: rest))%nat.
  specialize (IH (S j)). simpl firstn in IH. lia.
Qed.

Lemma unflatten_length : forall arch (th : list R), arch <> [] -> (nparams arch <= length th)%nat ->
  length (unflatten arch th) = (length arch - 1)%nat.
Proof. intros arch th Hne H. pose proof (shaped_length _ _ (unflatten_shaped arch th Hne H)). lia. Qed.

(* layer k's deadness depends only on the coordinates of layers 1..k *)
Lemma dead_prefix : forall arch k (th th' : list R) data,
  firstn (nparams (firstn (S k) arch)) th = firstn (nparams (firstn (S k) arch)) th' ->
  dead_on_data k (unflatten arch th) data -> dead_on_data k (unflatten arch th') data.
Proof.
  intros arch k th th' data H Hd. unfold dead_on_data, layer_dead in *.
  rewrite !firstn_unflatten in *. rewrite <- (unflatten_prefix _ _ _ H). exact Hd.
Qed.

Lemma firstn_limit_point : forall th p th0 m, length p = length th0 ->
  (forall n, firstn m (th n) = firstn m th0) -> limit_point th p -> firstn m p = firstn m th0.
Proof.
  intros th p th0 m Hl Hfix Hlim. apply firstn_nth_ext; [exact Hl|]. intros i Hi.
  destruct (Nat.lt_ge_cases i (length p)) as [Hip|Hip]; [| rewrite !nth_overflow by lia; reflexivity].
  destruct (Req_dec (nth i p 0) (nth i th0 0)) as [E|NE]; [exact E|]. exfalso.
  destruct (Hlim (Rabs (nth i p 0 - nth i th0 0)) ltac:(apply Rlt_gt, Rabs_pos_lt; lra) 0%nat) as [n [_ Hn]].
  specialize (Hn i Hip). rewrite (firstn_eq_nth m (th n) th0 i (Hfix n) Hi) in Hn.
  rewrite Rabs_minus_sym in Hn. lra.
Qed.

Theorem frozen_trains_dead : forall o, coordinate_frozen o -> trains_dead o.
Proof.
  intros o Hfrozen arch data k th0 red batch Hlen Hdata Hk Hbatch Hdead th m.
  assert (Harch : arch <> []) by (destruct arch; simpl in Hk; [lia | discriminate]).
  assert (Hm : (m <= nparams arch)%nat) by apply nparams_firstn_le.
  assert (Hthl : forall n, length (th n) = nparams arch) by (intros n; unfold th; rewrite train_length; exact Hlen).
  assert (HLs : forall n, length (unflatten arch (th n)) = (length arch - 1)%nat)
    by (intros n; apply unflatten_length; [exact Harch | rewrite Hthl; lia]).
  (* where layers 1..k are those of theta_0, the gradient's first m coordinates vanish *)
  assert (Hgrad : forall n, firstn m (th n) = firstn m th0 -> forall i, (i < m)%nat ->
            nth i (flat_grad arch red (batch n) (th n)) 0 = 0).
  { intros n Hn i Hi. unfold flat_grad. rewrite nth_map_seq by lia.
    rewrite sumR_zero; [ring|]. intros s Hs.
    assert (Hd : dead_on_data k (unflatten arch (th n)) data) by (apply (dead_prefix arch k th0); [symmetry; exact Hn | exact Hdead]).
    assert (Hsd : In s data) by (apply (Hbatch n); exact Hs).
    assert (Hsh : length (fst s) = hd 0%nat arch /\ length (snd s) = n_out arch)
      by (unfold data_shaped in Hdata; rewrite Forall_forall in Hdata; apply Hdata; exact Hsd).
    apply (zero_layers_zero_prefix arch _ k i).
    - apply net_grads_shaped; [| apply unflatten_shaped; [exact Harch | rewrite Hthl; lia] | apply Hsh | apply Hsh].
      intros E. pose proof (HLs n) as L. rewrite E in L. simpl in L. lia.
    - apply net_grads_frozen; [rewrite HLs; lia | apply Hd; exact Hsd].
    - exact Hi. }
  (* fact 3: layers 1..k never move *)
  assert (Hfix : forall n, firstn m (th n) = firstn m th0).
  { assert (Strong : forall n j, (j <= n)%nat -> firstn m (th j) = firstn m th0).
    { induction n as [|n IH]; intros j Hj.
      - assert (j = 0%nat) by lia. subst. reflexivity.
      - destruct (Nat.le_gt_cases j n) as [Hle|Hgt]; [apply IH; exact Hle|].
        assert (j = S n) by lia. subst j.
        apply firstn_nth_ext; [rewrite Hthl; symmetry; exact Hlen|]. intros i Hi.
        assert (Hi0 : (i < length th0)%nat) by lia.
        destruct (train_coord o (fun j => flat_grad arch red (batch j)) th0 (S n) i Hi0) as [_ E].
        unfold th. rewrite E. apply Hfrozen. intros j Hj2. apply Hgrad; [apply IH; lia | exact Hi]. }
    intros n. apply (Strong n n (le_n n)). }
  assert (Hdn : forall n, dead_on_data k (unflatten arch (th n)) data)
    by (intros n; apply (dead_prefix arch k th0); [symmetry; apply Hfix | exact Hdead]).
  assert (Hlim : forall p, length p = nparams arch -> limit_point th p ->
            firstn m p = firstn m th0 /\ dead_on_data k (unflatten arch p) data
            /\ risk arch (unflatten arch p) data >= V arch data).
  { intros p Hp Hl. assert (Hf : firstn m p = firstn m th0) by (apply (firstn_limit_point th); [lia | exact Hfix | exact Hl]).
    assert (Hd : dead_on_data k (unflatten arch p) data) by (apply (dead_prefix arch k th0); [symmetry; exact Hf | exact Hdead]).
    split; [exact Hf | split; [exact Hd|]].
    apply (risk_ge_V_of_dead _ _ k); [rewrite unflatten_length by (auto; lia); lia | exact Hd]. }
  split; [|split].
  - intros n. split; [apply Hfix | split; [apply Hdn | split]].
    + apply (constant_on_data _ k); [rewrite HLs; lia | apply Hdn].
    + apply (risk_ge_V_of_dead _ _ k); [rewrite HLs; lia | apply Hdn].
  - exact Hlim.
  - intros [q [Hq HqV]]. split.
    + intros n Hmin. specialize (Hmin q Hq).
      pose proof (risk_ge_V_of_dead arch _ k data ltac:(rewrite HLs; lia) (Hdn n)). lra.
    + intros p Hp Hl Hmin. specialize (Hmin q Hq). destruct (Hlim p Hp Hl) as [_ [_ H]]. lra.
Qed.

Corollary frozen_converges_dead : forall o, coordinate_frozen o ->
  forall arch data k th0 red batch p,
    length th0 = nparams arch -> data_shaped arch data -> (1 <= k < length arch - 1)%nat ->
    (forall n s, In s (batch n) -> In s data) -> dead_on_data k (unflatten arch th0) data ->
    length p = nparams arch -> converges (fun n => snd (train o (fun j => flat_grad arch red (batch j)) th0 n)) p ->
    risk arch (unflatten arch p) data >= V arch data.
Proof.
  intros o Ho arch data k th0 red batch p H1 H2 H3 H4 H5 Hp Hc.
  destruct (frozen_trains_dead o Ho arch data k th0 red batch H1 H2 H3 H4 H5) as [_ [Hlim _]].
  apply (Hlim p Hp (converges_limit_point _ _ Hc)).
Qed.

(* ---------- one closed theorem per optimizer (PyTorch's update rules, zero initial
   state, no weight decay; every real hyperparameter, so every PyTorch setting) ---------- *)

Theorem sgd_trains_dead : forall lr, trains_dead (sgd lr).
Proof. intros; apply frozen_trains_dead, sgd_frozen. Qed.

Theorem momentum_trains_dead : forall lr mu, trains_dead (momentum lr mu).
Proof. intros; apply frozen_trains_dead, momentum_frozen. Qed.

Theorem nesterov_trains_dead : forall lr mu, trains_dead (nesterov lr mu).
Proof. intros; apply frozen_trains_dead, nesterov_frozen. Qed.

Theorem adagrad_trains_dead : forall lr eps lr_decay, trains_dead (adagrad lr eps lr_decay).
Proof. intros; apply frozen_trains_dead, adagrad_frozen. Qed.

Theorem rmsprop_trains_dead : forall lr mu alpha eps centered use_momentum,
  trains_dead (rmsprop lr mu alpha eps centered use_momentum).
Proof. intros; apply frozen_trains_dead, rmsprop_frozen. Qed.

Theorem adam_trains_dead : forall lr beta1 beta2 eps, trains_dead (adam lr beta1 beta2 eps false).
Proof. intros; apply frozen_trains_dead, adam_frozen. Qed.

Theorem amsgrad_trains_dead : forall lr beta1 beta2 eps, trains_dead (adam lr beta1 beta2 eps true).
Proof. intros; apply frozen_trains_dead, adam_frozen. Qed.

Theorem adamax_trains_dead : forall lr beta1 beta2 eps, trains_dead (adamax lr beta1 beta2 eps).
Proof. intros; apply frozen_trains_dead, adamax_frozen. Qed.

(* NAdam for every momentum schedule mu_t; PyTorch's schedule: nadam_pytorch_trains_dead *)
Theorem nadam_trains_dead : forall lr beta1 beta2 eps nadam_mu, trains_dead (nadam lr beta1 beta2 eps nadam_mu).
Proof. intros; apply frozen_trains_dead, nadam_frozen. Qed.

Theorem nadam_pytorch_trains_dead : forall lr beta1 beta2 eps psi,
  trains_dead (nadam lr beta1 beta2 eps (nadam_mu_pytorch beta1 psi)).
Proof. intros; apply frozen_trains_dead, nadam_frozen. Qed.

Theorem adadelta_trains_dead : forall lr eps rho, trains_dead (adadelta lr eps rho).
Proof. intros; apply frozen_trains_dead, adadelta_frozen. Qed.
