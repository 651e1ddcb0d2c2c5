"""Say, as a training run starts, what it trains on and where its checkpoints and logs go."""

from __future__ import annotations

import logging
from collections.abc import Sized

from ignite.engine import Engine, Events

__all__ = ["TrainingOverview"]

logger = logging.getLogger(__name__)


class TrainingOverview:
    """Log one line on the data and one on the outputs when the trainer starts; warn when the data is tiny.

    Args:
        name: the bundle's name.
        dataset_dir: the dataset folder.
        datalist: the datalist file the splits come from.
        train_data: the training items (anything with a length).
        val_data: the validation items.
        ckpt_dir: where checkpoints go.
        log_dir: where TensorBoard logs go.
        min_train_images: fewer training images than this get a warning that nothing useful is learnt.

    """

    def __init__(
        self,
        name: str,
        dataset_dir: str,
        datalist: str,
        train_data: Sized,
        val_data: Sized,
        ckpt_dir: str,
        log_dir: str,
        min_train_images: int = 20,
    ) -> None:
        self.name, self.dataset_dir, self.datalist = name, dataset_dir, datalist
        self.n_train, self.n_val = len(train_data), len(val_data)
        self.ckpt_dir, self.log_dir = ckpt_dir, log_dir
        self.min_train_images = min_train_images

    def attach(self, engine: Engine) -> None:
        """Register on the trainer's ``STARTED`` event."""
        engine.add_event_handler(Events.STARTED, self)

    def __call__(self, engine: Engine | None = None) -> None:
        """Log the overview."""
        logger.info(
            "training %s on %d training and %d validation images of %s (datalist %s)",
            self.name,
            self.n_train,
            self.n_val,
            self.dataset_dir,
            self.datalist,
        )
        logger.info("checkpoints go to %s (best model: model.pt), TensorBoard logs to %s", self.ckpt_dir, self.log_dir)
        if self.n_train < self.min_train_images:
            logger.warning(
                "only %d training image(s): enough to check the pipeline, not to train a useful model; "
                "point --dataset_dir at a real data set",
                self.n_train,
            )
