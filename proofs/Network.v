(* Fully connected ReLU networks over the reals (Coq's standard library R), with the
   generalized gradient of the squared error computed by backpropagation with
   ReLU'(0) = 0. Every definition uses only field operations and the order, so every
   statement holds verbatim for the rational numbers the Rust exact mode computes with
   (the rationals are a subfield of R). Mirrors src/net/mod.rs. *)

Require Import Reals List Lra.
Import ListNotations.
Open Scope R_scope.

(* ReLU and its generalized derivative: 1 on (0, oo), 0 on (-oo, 0]. *)
Definition relu (t : R) : R := if Rlt_dec 0 t then t else 0.
Definition relu' (t : R) : R := if Rlt_dec 0 t then 1 else 0.

Lemma relu_nonpos : forall t, t <= 0 -> relu t = 0.
Proof. intros t H. unfold relu. destruct (Rlt_dec 0 t); [lra | reflexivity]. Qed.

Lemma relu'_nonpos : forall t, t <= 0 -> relu' t = 0.
Proof. intros t H. unfold relu'. destruct (Rlt_dec 0 t); [lra | reflexivity]. Qed.

(* A neuron: incoming weights and a bias. A layer: its neurons (row j = neuron j). *)
Notation neuron := (list R * R)%type.
Notation layer := (list neuron).

Fixpoint dot (w x : list R) : R :=
  match w, x with
  | a :: w', b :: x' => a * b + dot w' x'
  | _, _ => 0
  end.

(* pre-activations z = W x + B and activations a = ReLU(z) *)
Definition pre (L : layer) (x : list R) : list R := map (fun n => dot (fst n) x + snd n) L.
Definition act (L : layer) (x : list R) : list R := map relu (pre L x).

(* A network: hidden layers (input side first) and an output layer without activation. *)
Fixpoint hidden (Hs : list layer) (x : list R) : list R :=
  match Hs with
  | [] => x
  | L :: Hs' => hidden Hs' (act L x)
  end.

Definition realize (Hs : list layer) (Out : layer) (x : list R) : list R := pre Out (hidden Hs x).

Lemma hidden_app : forall P Q x, hidden (P ++ Q) x = hidden Q (hidden P x).
Proof. induction P as [|L P IH]; intros Q x; simpl; [reflexivity | apply IH]. Qed.

(* ---------- the generalized gradient, by backpropagation ---------- *)

(* The gradient of a layer has the shape of the layer: per neuron (dW_j, dB_j). *)
Notation lgrad := (list (list R * R)).

(* dW_j = d_j * input, dB_j = d_j *)
Definition layer_grad (delta input : list R) : lgrad := map (fun d => (map (fun a => d * a) input, d)) delta.

(* W^T delta: the gradient with respect to the layer's input *)
Fixpoint vadd (u v : list R) : list R :=
  match u, v with
  | a :: u', b :: v' => (a + b) :: vadd u' v'
  | _, _ => []
  end.

Fixpoint backvec (L : layer) (delta : list R) (n : nat) : list R :=
  match L, delta with
  | nj :: L', d :: delta' => vadd (map (fun w => d * w) (fst nj)) (backvec L' delta' n)
  | _, _ => repeat 0 n
  end.

Fixpoint zipmul (u v : list R) : list R :=
  match u, v with
  | a :: u', b :: v' => (a * b) :: zipmul u' v'
  | _, _ => []
  end.

(* The output error of the squared loss |N(x) - y|^2: 2 (o - y). *)
Definition out_error (o y : list R) : list R :=
  map (fun p => 2 * (fst p - snd p)) (combine o y).

(* grads Hs Out x y = (gradients of the hidden layers, gradient of the output layer,
   gradient with respect to the input x), for the loss of one sample. *)
Fixpoint grads (Hs : list layer) (Out : layer) (x y : list R) : list lgrad * lgrad * list R :=
  match Hs with
  | [] =>
      let e := out_error (pre Out x) y in
      ([], layer_grad e x, backvec Out e (length x))
  | L :: Hs' =>
      let z := pre L x in
      let '(gs, gout, da) := grads Hs' Out (map relu z) y in
      let delta := zipmul (map relu' z) da in
      (layer_grad delta x :: gs, gout, backvec L delta (length x))
  end.

(* ---------- predicates on gradients ---------- *)

Definition all_zero (v : list R) : Prop := Forall (fun t => t = 0) v.
Definition lgrad_zero (g : lgrad) : Prop := Forall (fun p => all_zero (fst p) /\ snd p = 0) g.
Definition lgrad_weights_zero (g : lgrad) : Prop := Forall (fun p => all_zero (fst p)) g.

Lemma all_zero_repeat : forall n, all_zero (repeat 0 n).
Proof. induction n; simpl; constructor; auto. Qed.

Lemma all_zero_map_mul_l : forall v, all_zero (map (fun w => 0 * w) v).
Proof. unfold all_zero; induction v; simpl; constructor; auto; cbv beta; lra. Qed.

Lemma all_zero_map_mul_r : forall d v, all_zero v -> all_zero (map (fun a => d * a) v).
Proof.
  unfold all_zero; intros d v H; induction H; simpl; constructor; auto. cbv beta in *. subst; lra.
Qed.

Lemma all_zero_vadd : forall u v, all_zero u -> all_zero v -> all_zero (vadd u v).
Proof.
  unfold all_zero; induction u as [|a u IH]; intros v Hu Hv; destruct v as [|b v]; simpl; try constructor.
  - apply Forall_inv in Hu. apply Forall_inv in Hv. cbv beta in *. lra.
  - apply IH; [exact (Forall_inv_tail Hu) | exact (Forall_inv_tail Hv)].
Qed.

Lemma backvec_zero : forall L delta n, all_zero delta -> all_zero (backvec L delta n).
Proof.
  induction L as [|nj L IH]; intros delta n H; destruct delta as [|d delta]; simpl;
    try apply all_zero_repeat.
  inversion H; subst. apply all_zero_vadd; [apply all_zero_map_mul_l | apply IH; auto].
Qed.

Lemma layer_grad_zero : forall delta input, all_zero delta -> lgrad_zero (layer_grad delta input).
Proof.
  intros delta input H; induction H; simpl; constructor; auto.
  subst; split; simpl; [apply all_zero_map_mul_l | reflexivity].
Qed.

Lemma layer_grad_weights_zero : forall delta input, all_zero input -> lgrad_weights_zero (layer_grad delta input).
Proof.
  intros delta input H; induction delta; simpl; constructor; auto.
  simpl; apply all_zero_map_mul_r; auto.
Qed.

Lemma zipmul_zero_l : forall u v, all_zero u -> all_zero (zipmul u v).
Proof.
  unfold all_zero; induction u as [|a u IH]; intros v H; destruct v; simpl; constructor.
  - apply Forall_inv in H. cbv beta in *. subst. lra.
  - apply IH. exact (Forall_inv_tail H).
Qed.
