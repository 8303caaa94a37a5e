import numpy as np
import numpy.typing as npt

KERNEL_METRICS: dict[str, int]
STOP_REASONS: dict[int, str | None]
MAX_ITEMSET_LEN: int

class ItemsetIndex:
    items_: npt.NDArray[np.int32]
    offsets_: npt.NDArray[np.int64]
    counts_: npt.NDArray[np.int64]
    table_: npt.NDArray[np.int64]
    missing_: npt.NDArray[np.int32] | None
    duplicate: int
    longest: int
    def __init__(self, items: npt.NDArray[np.int32], offsets: npt.NDArray[np.int64],
                 counts: npt.NDArray[np.int64]) -> None: ...
    def rules(self, n: float, metric: str, threshold: float, ant_ok: npt.NDArray[np.uint8],
              con_ok: npt.NDArray[np.uint8], anc_ptr: npt.NDArray[np.int64],
              anc_idx: npt.NDArray[np.int32], max_a: int, max_c: int, max_rules: int, top_k: int,
              time_limit: float, status: npt.NDArray[np.int64], only: npt.NDArray[np.int64] | None = None) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.uint64],
                                                      npt.NDArray[np.int64], npt.NDArray[np.int64],
                                                      npt.NDArray[np.float64], int]: ...
    def improvement(self, n: float, sets: npt.NDArray[np.int64],
                    amask: npt.NDArray[np.uint64]) -> npt.NDArray[np.float64] | None: ...
    def split(self, sets: npt.NDArray[np.int64], amask: npt.NDArray[np.uint64]
              ) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int64], npt.NDArray[np.int32],
                         npt.NDArray[np.int64]]: ...
