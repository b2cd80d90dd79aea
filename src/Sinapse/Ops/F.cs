namespace Sinapse.Ops;

/// <summary>
/// The functional API, like torch.nn.functional: stateless ops on tensors, each with its forward
/// computation and, beside it, the backward closure it records on the tape. One file per op family.
/// </summary>
public static partial class F;
