import numpy as np
import numpy.typing as npt

STOP_REASONS: dict[int, str | None]
TARGETS: dict[str, int]

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
    *,
    target: str = "all",
    top_k: int = 0,
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int64], npt.NDArray[np.int64],
           npt.NDArray[np.int32], int]: ...
def frozensets(
    items: npt.NDArray[np.int32],
    offsets: npt.NDArray[np.int64],
    labels: npt.NDArray[np.object_],
) -> npt.NDArray[np.object_]: ...
