#!/usr/bin/env python3
"""Golden trajectories for tests/optimizers.rs, from the update rules of torch.optim's
documentation (written independently of the Rust code). One coordinate, theta_0 = 1,
the gradient sequence G below (not a function of theta), default hyperparameters.
Prints Rust array literals: theta after each step; then, for the optimizers with
bias-correction powers (beta ** t, 0.96 ** (t * psi)), theta after 10_000 steps of the
same gradients repeated (G_LONG)."""
import math

G = [0.5, -0.25, 1.0, 0.0, 2.0]
G_LONG = G * 2000

def sgd(mu=0.0, nesterov=False, lr=1e-3, G=G):
    th, b, out = 1.0, None, []
    for g in G:
        if mu:
            b = g if b is None else mu * b + g
            g = g + mu * b if nesterov else b
        th -= lr * g; out.append(th)
    return out

def adagrad(lr=1e-2, eps=1e-10, G=G):
    th, s, out = 1.0, 0.0, []
    for g in G:
        s += g * g; th -= lr * g / (math.sqrt(s) + eps); out.append(th)
    return out

def rmsprop(lr=1e-2, a=0.99, eps=1e-8, G=G):
    th, v, out = 1.0, 0.0, []
    for g in G:
        v = a * v + (1 - a) * g * g; th -= lr * g / (math.sqrt(v) + eps); out.append(th)
    return out

def adam(lr=1e-3, b1=0.9, b2=0.999, eps=1e-8, ams=False, G=G):
    th, m, v, vm, out = 1.0, 0.0, 0.0, 0.0, []
    for t, g in enumerate(G, 1):
        m = b1 * m + (1 - b1) * g; v = b2 * v + (1 - b2) * g * g
        c1, c2 = 1 - b1 ** t, 1 - b2 ** t
        if ams:
            vm = max(vm, v); w = vm
        else:
            w = v
        th -= (lr / c1) * m / (math.sqrt(w) / math.sqrt(c2) + eps); out.append(th)
    return out

def adamax(lr=2e-3, b1=0.9, b2=0.999, eps=1e-8, G=G):
    th, m, u, out = 1.0, 0.0, 0.0, []
    for t, g in enumerate(G, 1):
        m = b1 * m + (1 - b1) * g; u = max(b2 * u, abs(g) + eps)
        th -= lr / (1 - b1 ** t) * m / u; out.append(th)
    return out

def nadam(lr=2e-3, b1=0.9, b2=0.999, eps=1e-8, psi=4e-3, G=G):
    th, m, v, P, out = 1.0, 0.0, 0.0, 1.0, []
    for t, g in enumerate(G, 1):
        mu = b1 * (1 - 0.5 * 0.96 ** (t * psi)); mu1 = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
        P *= mu
        m = b1 * m + (1 - b1) * g; v = b2 * v + (1 - b2) * g * g
        d = math.sqrt(v / (1 - b2 ** t)) + eps
        th -= lr * (1 - mu) / (1 - P) * g / d
        th -= lr * mu1 / (1 - P * mu1) * m / d
        out.append(th)
    return out

def adadelta(lr=1.0, rho=0.9, eps=1e-6, G=G):
    th, v, u, out = 1.0, 0.0, 0.0, []
    for g in G:
        v = rho * v + (1 - rho) * g * g
        d = math.sqrt(u + eps) / math.sqrt(v + eps) * g
        u = rho * u + (1 - rho) * d * d
        th -= lr * d; out.append(th)
    return out

for name, traj in [("sgd", sgd()), ("momentum", sgd(0.9)), ("nesterov", sgd(0.9, True)),
                   ("adagrad", adagrad()), ("rmsprop", rmsprop()), ("adam", adam()),
                   ("adamax", adamax()), ("amsgrad", adam(ams=True)), ("nadam", nadam()),
                   ("adadelta", adadelta())]:
    print(f'("{name}", [{", ".join(repr(x) for x in traj)}]),')

print()
for name, traj in [("adam", adam(G=G_LONG)), ("adamax", adamax(G=G_LONG)),
                   ("amsgrad", adam(ams=True, G=G_LONG)), ("nadam", nadam(G=G_LONG))]:
    print(f'("{name}", {traj[-1]!r}),')
