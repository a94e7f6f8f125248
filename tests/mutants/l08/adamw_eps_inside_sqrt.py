"""eps inside the square root: sqrt(v_hat + eps) instead of sqrt(v_hat) + eps."""
TARGET = "optim.py"


@torch.no_grad()
def step(self, closure=None):
    for group in self.param_groups:
        lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        for p in group["params"]:
            if p.grad is None:
                continue
            state = self.state[p]
            if not state:
                state.update(step=0, exp_avg=torch.zeros_like(p), exp_avg_sq=torch.zeros_like(p))
            state["step"] += 1
            t, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]
            p.mul_(1 - lr * wd)
            m.mul_(beta1).add_(p.grad, alpha=1 - beta1)
            v.mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)
            denom = (v / (1 - beta2**t) + eps).sqrt()
            p.addcdiv_(m, denom, value=-lr / (1 - beta1**t))


AdamW.step = step
