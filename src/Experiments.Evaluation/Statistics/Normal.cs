namespace Experiments.Evaluation.Statistics;

/// <summary>The standard normal distribution's quantile and CDF.</summary>
public static class Normal
{
    /// <summary>Inverse CDF (Acklam's rational approximation refined by one Halley step; |error| &lt; 1e-12).</summary>
    public static double Quantile(double p)
    {
        if (p <= 0 || p >= 1) throw new ArgumentOutOfRangeException(nameof(p), "p must lie strictly between 0 and 1.");
        double[] a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00];
        double[] b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01];
        double[] c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00];
        double[] d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00];
        const double low = 0.02425;
        double x;
        if (p < low)
        {
            var q = Math.Sqrt(-2 * Math.Log(p));
            x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
        }
        else if (p <= 1 - low)
        {
            var q = p - 0.5;
            var r = q * q;
            x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
        }
        else
        {
            var q = Math.Sqrt(-2 * Math.Log(1 - p));
            x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
        }
        var e = Cdf(x) - p;
        var u = e * Math.Sqrt(2 * Math.PI) * Math.Exp(x * x / 2);
        return x - u / (1 + x * u / 2);
    }

    public static double Cdf(double x) => 0.5 * Erfc(-x / Math.Sqrt(2));

    // erfc to near double precision: the Maclaurin series of erf below 2.5, the continued fraction
    // erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))) above it.
    private static double Erfc(double x)
    {
        if (x < 0) return 2 - Erfc(-x);
        if (x < 2.5)
        {
            // Maclaurin series of erf: converges quickly for small x.
            double sum = x, term = x, x2 = x * x;
            for (var n = 1; n < 200; n++)
            {
                term *= -x2 / n;
                var add = term / (2 * n + 1);
                sum += add;
                if (Math.Abs(add) < 1e-17 * Math.Abs(sum)) break;
            }
            return 1 - 2 / Math.Sqrt(Math.PI) * sum;
        }
        // Continued fraction for large x (Lentz's method).
        const double tiny = 1e-300;
        double f = x, cc = x, dd = 0;
        for (var n = 1; n < 500; n++)
        {
            var an = n / 2.0;
            dd = x + an * dd;
            dd = Math.Abs(dd) < tiny ? tiny : dd;
            cc = x + an / cc;
            cc = Math.Abs(cc) < tiny ? tiny : cc;
            dd = 1 / dd;
            var delta = cc * dd;
            f *= delta;
            if (Math.Abs(delta - 1) < 1e-16) break;
        }
        return Math.Exp(-x * x) / (f * Math.Sqrt(Math.PI));
    }
}
