import numpy as np
import numpy.typing as npt

STOP_REASONS: dict[int, str | None]
ROLE_ANTECEDENT: int
ROLE_CONSEQUENT: int

def mine(
    seq_ptr: npt.NDArray[np.int64],
    el_ptr: npt.NDArray[np.int64],
    items: npt.NDArray[np.int32],
    rank_to_code: npt.NDArray[np.int32],
    min_count: int,
    max_len: int,
    max_patterns: int,
    time_limit: float,
    status: npt.NDArray[np.int64],
    *,
    min_gap: int = 1,
    max_gap: int = -1,
    max_span: int = -1,
    min_gap_axis: npt.NDArray[np.int64] | None = None,
    max_gap_axis: npt.NDArray[np.int64] | None = None,
    span_axis: npt.NDArray[np.int64] | None = None,
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.uint8], npt.NDArray[np.int64],
           npt.NDArray[np.int64], int]: ...
def follow_ups(
    seq_ptr: npt.NDArray[np.int64],
    el_ptr: npt.NDArray[np.int64],
    items: npt.NDArray[np.int32],
    rank_to_code: npt.NDArray[np.int32],
    times: npt.NDArray[np.int64],
    anchor_ok: npt.NDArray[np.uint8],
    roles: npt.NDArray[np.uint8],
    within: int,
    min_count: int,
    max_antecedent_len: int,
    max_rules: int,
    time_limit: float,
    status: npt.NDArray[np.int64],
    *,
    min_gap: int = 1,
    min_gap_in_time: bool = False,
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.uint8], npt.NDArray[np.int64],
           npt.NDArray[np.int64], npt.NDArray[np.float64], int]: ...
def closure_mask(
    items: npt.NDArray[np.int32],
    starts: npt.NDArray[np.uint8],
    offsets: npt.NDArray[np.int64],
    counts: npt.NDArray[np.int64],
    maximal: bool,
) -> npt.NDArray[np.uint8]: ...
def tuples(
    items: npt.NDArray[np.int32],
    starts: npt.NDArray[np.uint8],
    offsets: npt.NDArray[np.int64],
    labels: npt.NDArray[np.object_],
) -> npt.NDArray[np.object_]: ...
def item_sequence_counts(
    indptr: npt.NDArray[np.int64],
    indices: npt.NDArray[np.int32],
    order: npt.NDArray[np.int64],
    seq_ptr: npt.NDArray[np.int64],
    n_items: int,
) -> npt.NDArray[np.int64]: ...
def project(
    indptr: npt.NDArray[np.int64],
    indices: npt.NDArray[np.int32],
    order: npt.NDArray[np.int64],
    seq_ptr: npt.NDArray[np.int64],
    code_to_rank: npt.NDArray[np.int32],
    squeeze: bool,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int32],
           npt.NDArray[np.int64], int]: ...
def flatten(sequences: list) -> tuple[list, npt.NDArray[np.int64], int]: ...
