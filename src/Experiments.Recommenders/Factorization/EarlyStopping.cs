using Experiments.Core;
using Experiments.Core.Data;

namespace Experiments.Recommenders.Factorization;

/// <summary>How an iterative rating trainer stops: at most <c>Iterations</c>, or earlier on validation RMSE.</summary>
/// <param name="Rounds">Stop when validation RMSE has not improved for this many iterations; 0 runs every iteration.</param>
/// <param name="ValidationFraction">Share of the training pairs held out (seeded) when the caller gives no validation rows.</param>
/// <param name="Divergence">Names the model and says what to change when the fit diverges (<see cref="FactorizationMath.Diverged"/>).</param>
internal sealed record EarlyStoppingSettings(int Iterations, int Rounds, double ValidationFraction, int Seed, DivergenceAdvice Divergence);

/// <summary>
/// Early stopping shared by the iterative rating trainers (matrix factorisation, SVD++). With validation rows from the
/// caller (a split's validation part), training stops when their RMSE has not improved for <c>Rounds</c> iterations
/// and the best iteration's model is returned. Without them, a seeded <c>ValidationFraction</c> of the training pairs
/// is held out to find the best number of iterations, and the model is then refitted on every training pair for
/// that many iterations, so no rating is lost to the hold-out. <c>fitted</c> sees each iteration's model of the fit
/// whose model is returned (after the hold-out's search, the refit's), as <see cref="IIterationModels"/> shows it.
/// </summary>
internal static class EarlyStopping
{
    /// <summary>
    /// <paramref name="start"/> begins a fresh fit on the rows it is given and returns its step function: run iteration
    /// n (from 1) and return the model as it stands after it.
    /// </summary>
    public static LatentFactorModel Fit(Interactions train, Interactions? validation, EarlyStoppingSettings settings,
        Func<Interactions, Func<int, LatentFactorModel>> start, Action<int, double, double>? progress, CancellationToken cancel,
        Action<int, LatentFactorModel>? fitted = null)
    {
        if (settings.Rounds < 0) throw new ExperimentsException($"earlyStoppingRounds must be at least 0; it is {settings.Rounds}.");
        if (settings.ValidationFraction is < 0 or >= 1 || double.IsNaN(settings.ValidationFraction))
            throw new ExperimentsException($"The validation fraction must be at least 0 and below 1; it is {settings.ValidationFraction}.");
        if (settings.Rounds == 0 || validation is { Count: > 0 })
            return Run(start(train), train, validation, settings.Iterations, settings.Rounds, settings.Divergence, progress, cancel, fitted).Model;
        var held = (int)Math.Round(train.Count * settings.ValidationFraction);
        if (held < 1 || held >= train.Count)
            return Run(start(train), train, null, settings.Iterations, 0, settings.Divergence, progress, cancel, fitted).Model;
        var order = Enumerable.Range(0, train.Count).ToArray();
        BlockSchedule.Shuffle(order, new Random(Seeds.Mix(settings.Seed, 2)));
        var fitRows = order[held..];
        Array.Sort(fitRows);
        var heldRows = order[..held];
        Array.Sort(heldRows);
        var part = train.Subset(fitRows);
        var (_, best) = Run(start(part), part, train.Subset(heldRows), settings.Iterations, settings.Rounds, settings.Divergence, progress, cancel);
        return Run(start(train), train, null, best, 0, settings.Divergence, progress, cancel, fitted).Model;
    }

    /// <summary>Runs up to <paramref name="iterations"/>; returns the model to keep and its iteration. A diverging fit is a clear error, never a model.</summary>
    private static (LatentFactorModel Model, int Iteration) Run(Func<int, LatentFactorModel> step, Interactions train, Interactions? validation,
        int iterations, int rounds, DivergenceAdvice divergence, Action<int, double, double>? progress, CancellationToken cancel,
        Action<int, LatentFactorModel>? fitted = null)
    {
        var limit = FactorizationMath.RmseLimit(train);
        LatentFactorModel? best = null;
        var bestIteration = 0;
        var bestRmse = double.PositiveInfinity;
        LatentFactorModel model = null!;
        var iteration = 0;
        while (iteration < iterations)
        {
            cancel.ThrowIfCancellationRequested();
            model = step(++iteration);
            var trainRmse = FactorizationMath.Rmse(model, train);
            if (!(trainRmse <= limit))
                throw FactorizationMath.Diverged(divergence, iteration, double.IsFinite(trainRmse)
                    ? $"its training RMSE is {trainRmse:G3}, over {limit:G3} (100 × the largest rating's size: a constant 0 would do better)"
                    : $"its training RMSE is {trainRmse} (the factors overflowed)");
            var validationRmse = validation is { Count: > 0 } ? FactorizationMath.Rmse(model, validation) : double.NaN;
            progress?.Invoke(iteration, trainRmse, validationRmse);
            fitted?.Invoke(iteration, model);
            if (rounds == 0 || double.IsNaN(validationRmse)) continue;
            if (validationRmse < bestRmse)
            {
                (best, bestIteration, bestRmse) = (model.Clone(), iteration, validationRmse);
            }
            else if (iteration - bestIteration >= rounds) break;
        }
        return best is null ? (model, iteration) : (best, bestIteration);
    }
}
