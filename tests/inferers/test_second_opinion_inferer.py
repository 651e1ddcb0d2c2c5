"""SecondOpinionInferer stacks the two networks' outputs, each through its own inferer."""

from __future__ import annotations

import torch

from lungseg_monai.inferers import FlipAveragingInferer, SecondOpinionInferer


class _Constant(torch.nn.Module):
    """Three output channels: the input's column index times ``scale`` (so a mirror shows)."""

    def __init__(self, scale: float) -> None:
        super().__init__()
        self.scale = torch.nn.Parameter(torch.tensor(scale))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        columns = torch.arange(x.shape[-1], dtype=torch.float32).expand_as(x)
        return (columns * self.scale).repeat(1, 3, 1, 1)


def test_the_output_is_the_first_networks_then_the_seconds():
    second = _Constant(10.0).train()
    inferer = SecondOpinionInferer(second)
    output = inferer(torch.zeros(2, 1, 4, 5), _Constant(1.0))
    assert output.shape == (2, 6, 4, 5)
    assert torch.equal(output[:, :3, 0, :], torch.arange(5.0).expand(2, 3, 5))
    assert torch.equal(output[:, 3:, 0, :], 10 * torch.arange(5.0).expand(2, 3, 5))
    assert not second.training  # the second network runs in eval mode


def test_each_network_goes_through_the_given_inferer():
    # Flip averaging of a column ramp 0..4 gives 2 in every column (and swaps the lung channels, equal here).
    output = SecondOpinionInferer(_Constant(10.0), inferer=FlipAveragingInferer())(
        torch.zeros(1, 1, 2, 5), _Constant(1.0)
    )
    assert torch.allclose(output[:, :3], torch.full((1, 3, 2, 5), 2.0))
    assert torch.allclose(output[:, 3:], torch.full((1, 3, 2, 5), 20.0))


class _Lungs(torch.nn.Module):
    """Logits of two lungs over the first ``rows`` rows (+5) and nothing else (-5); counts its calls."""

    def __init__(self, rows: int) -> None:
        super().__init__()
        self.rows, self.calls = rows, 0
        self.weight = torch.nn.Parameter(torch.zeros(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        out = torch.full((x.shape[0], 3, *x.shape[2:]), -5.0)
        out[:, :2, : self.rows] = 5.0
        return out + x.mean() * 0  # the same for every film


class _Recheck:
    """An inferer that marks what it returns (+100), to see which films it ran on."""

    def __call__(self, inputs: torch.Tensor, network: torch.nn.Module) -> torch.Tensor:
        return network(inputs) + 100.0


def test_a_film_that_disagrees_gets_the_second_network_again_through_the_recheck_inferer():
    second = _Lungs(rows=8)
    inferer = SecondOpinionInferer(second, recheck_inferer=_Recheck(), switch_below=0.95)
    agreeing = inferer(torch.zeros(2, 1, 8, 4), _Lungs(rows=8))
    assert second.calls == 1 and agreeing[:, 3:].max() == 5.0  # one batched pass, no recheck
    disagreeing = inferer(torch.zeros(2, 1, 8, 4), _Lungs(rows=4))  # lung Dice 2 * 4 / (4 + 8) = 0.67
    assert second.calls == 1 + 1 + 2  # the batch, then each film again
    assert disagreeing[:, 3:].min() == 95.0 and disagreeing[:, :3].max() == 5.0


def test_a_film_whose_base_stops_short_is_rechecked_with_base_gap_above():
    # the network's lungs end 2 of 20 rows short (lung Dice 0.947): a base gap of 0.1
    second = _Lungs(rows=20)
    plain = SecondOpinionInferer(second, recheck_inferer=_Recheck(), switch_below=0.94)
    assert plain(torch.zeros(1, 1, 24, 4), _Lungs(rows=18))[:, 3:].max() == 5.0 and second.calls == 1
    checked = SecondOpinionInferer(second, recheck_inferer=_Recheck(), switch_below=0.94, base_gap_above=0.06)
    assert checked(torch.zeros(1, 1, 24, 4), _Lungs(rows=18))[:, 3:].min() == 95.0 and second.calls == 1 + 2


class _Recorder(_Constant):
    """A :class:`_Constant` that records the type of each input it is given."""

    def __init__(self, scale: float) -> None:
        super().__init__(scale)
        self.input_types: list[type] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.input_types.append(type(x))
        return super().forward(x)


def test_a_batch_with_metadata_runs_the_networks_on_plain_tensors_and_keeps_its_metadata():
    from monai.data import MetaTensor, decollate_batch, list_data_collate

    films = [MetaTensor(torch.zeros(1, 4, 5), meta={"filename_or_obj": f"film{i}.png"}) for i in range(2)]
    batch = list_data_collate([{"image": film} for film in films])["image"]
    first, second = _Recorder(1.0), _Recorder(10.0)
    output = SecondOpinionInferer(second, recheck_inferer=FlipAveragingInferer())(batch, first)
    assert first.input_types == [torch.Tensor] and set(second.input_types) == {torch.Tensor}  # no metadata per op
    assert isinstance(output, MetaTensor) and output.is_batch
    assert [item.meta["filename_or_obj"] for item in decollate_batch(output)] == ["film0.png", "film1.png"]
    assert torch.equal(output.as_tensor()[:, 3:, 0, :], 10 * torch.arange(5.0).expand(2, 3, 5))
