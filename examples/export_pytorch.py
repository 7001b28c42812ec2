#!/usr/bin/env python3
"""Export a PyTorch MLP for `deadrelu` (needs torch and safetensors).

    python3 examples/export_pytorch.py          # writes mlp.safetensors and data.csv
    deadrelu inspect --weights mlp.safetensors --data csv:data.csv
    deadrelu audit   --weights mlp.safetensors --data csv:data.csv --certificate c.json
    deadrelu check c.json

The model must be an nn.Sequential of nn.Linear layers with ReLUs between them (module
indices 0, 2, 4, ...); float32 or float64. deadrelu reads every stored float exactly.
"""
import torch
from safetensors.torch import save_file

torch.manual_seed(0)
model = torch.nn.Sequential(
    torch.nn.Linear(1, 8), torch.nn.ReLU(),
    torch.nn.Linear(8, 8), torch.nn.ReLU(),
    torch.nn.Linear(8, 1),
)
x = torch.linspace(-1, 1, 64).unsqueeze(1)
y = x.abs()
opt = torch.optim.Adam(model.parameters(), lr=1e-2)
for _ in range(500):
    opt.zero_grad()
    loss = ((model(x) - y) ** 2).mean()
    loss.backward()
    opt.step()
save_file(model.state_dict(), "mlp.safetensors")
with open("data.csv", "w") as f:
    f.write("x,y\n")
    for xi, yi in zip(x.squeeze(1).tolist(), y.squeeze(1).tolist()):
        f.write(f"{xi!r},{yi!r}\n")
print("final training loss", loss.item())
