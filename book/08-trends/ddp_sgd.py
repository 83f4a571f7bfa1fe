r"""Data-parallel SGD with torch.distributed: a process per rank, launched by torchrun.

Used by distributed.ipynb. Run on one machine with

    python -m torch.distributed.run --standalone --nproc_per_node=2 \
        ddp_sgd.py --data DATA.npz --out DIR

and across N machines by starting the same command on every machine with
``--nnodes=N --rdzv-id=JOB --rdzv-backend=c10d --rdzv-endpoint=HOST:PORT``
in place of ``--standalone``.

DATA.npz holds the training inputs ``X`` (float64), labels ``y``, the initial
parameters ``param_0``, ``param_1``, ... in the order of
``torch.nn.Sequential(Linear, ReLU, ..., Linear).parameters()``, and the
hyper-parameters ``lr``, ``per_rank_batch``, ``epochs`` and ``seed``. Each rank trains
the same model with DistributedDataParallel on its shard of every global batch
(DistributedSampler) and writes its final parameters to DIR/rank<r>.npz, together
with its training time and the indices of the samples it saw.
"""

import argparse
import os
import pathlib
import time

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

from lossopt_companion.frameworks import torch_mlp
from lossopt_companion.models import MLP


def build_network(params):
    """Linear layers with ReLU between them, with the given weights
    (W_1, b_1, W_2, b_2, ...), in float64."""
    sizes = [params[0].shape[1]] + [weight.shape[0] for weight in params[0::2]]
    model = MLP(sizes)  # the companion's network of these sizes ...
    for array, value in zip(model.params, params):
        array[...] = value  # ... given these weights, then the same network in torch
    return torch_mlp(model)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data",
        required=True,
        help="npz file with X, y, param_*, lr, per_rank_batch, epochs, seed",
    )
    parser.add_argument(
        "--out", required=True, help="directory that receives rank<r>.npz"
    )
    args = parser.parse_args()

    # torchrun sets RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT in each process's
    # environment; the default init_method "env://" reads them. gloo is the backend
    # for CPUs (nccl is for GPUs).
    dist.init_process_group(backend="gloo")
    rank, world_size = dist.get_rank(), dist.get_world_size()
    # one core per process: the two processes share this machine's cores
    torch.set_num_threads(1)

    data = np.load(args.data)
    X, y = torch.from_numpy(data["X"]), torch.from_numpy(data["y"])
    params = [
        data[f"param_{i}"]
        for i in range(sum(k.startswith("param_") for k in data.files))
    ]
    lr, per_rank_batch = float(data["lr"]), int(data["per_rank_batch"])
    epochs, seed = int(data["epochs"]), int(data["seed"])

    # DDP broadcasts rank 0's parameters to the other ranks when it wraps the model,
    # so every replica starts equal.
    model = DistributedDataParallel(build_network(params))
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    loss_fn = torch.nn.CrossEntropyLoss()  # the mean over the rank's own mini-batch

    dataset = TensorDataset(X, y, torch.arange(len(y)))
    # Rank r gets positions r, r + K, r + 2K, ... of a permutation drawn from
    # seed + epoch, the same on every rank.
    sampler = DistributedSampler(
        dataset, num_replicas=world_size, rank=rank, shuffle=True, seed=seed
    )
    loader = DataLoader(dataset, batch_size=per_rank_batch, sampler=sampler)

    seen = []
    start = time.perf_counter()
    for epoch in range(epochs):
        # a new permutation each epoch; forgetting this repeats epoch 0's order
        sampler.set_epoch(epoch)
        for X_batch, y_batch, rows in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(X_batch), y_batch)
            # DDP all-reduces the gradients during backward and divides them by
            # world_size
            loss.backward()
            optimizer.step()
            seen.append(rows.numpy())
    train_seconds = time.perf_counter() - start

    # Time one all-reduce of a buffer as large as all the gradients (what DDP sends
    # per step), for comparison.
    n_params = sum(p.numel() for p in model.parameters())
    buffer = torch.zeros(n_params, dtype=torch.float64)
    dist.barrier()
    start = time.perf_counter()
    repeats = 20
    for _ in range(repeats):
        dist.all_reduce(buffer)
    allreduce_seconds = (time.perf_counter() - start) / repeats

    out = pathlib.Path(args.out)
    final = {
        f"param_{i}": p.detach().numpy()
        for i, p in enumerate(model.module.parameters())
    }
    np.savez(
        out / f"rank{rank}.npz",
        **final,
        seen=np.stack(seen),
        world_size=world_size,
        train_seconds=train_seconds,
        allreduce_seconds=allreduce_seconds,
        pid=os.getpid(),
    )
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
