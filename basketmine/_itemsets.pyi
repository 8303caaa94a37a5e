import numpy as np
import numpy.typing as npt

STOP_REASONS: dict[int, str | None]

def mine(
    indptr: npt.NDArray[np.int64],
    indices: npt.NDArray[np.int32],
    item_count: npt.NDArray[np.int64],
    min_count: int,
    min_len: int,
    max_len: int,
    max_sets: int,
    time_limit: float,
    method: str,
    status: npt.NDArray[np.int64],
    order: npt.NDArray[np.int32] | None = None,
    roots: npt.NDArray[np.uint8] | None = None,
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int64], npt.NDArray[np.int64],
           npt.NDArray[np.int32], int]: ...
def closure_mask(
    items: npt.NDArray[np.int32],
    offsets: npt.NDArray[np.int64],
    counts: npt.NDArray[np.int64],
    maximal: bool,
) -> npt.NDArray[np.uint8]: ...
def frozensets(
    items: npt.NDArray[np.int32],
    offsets: npt.NDArray[np.int64],
    labels: npt.NDArray[np.object_],
) -> npt.NDArray[np.object_]: ...
