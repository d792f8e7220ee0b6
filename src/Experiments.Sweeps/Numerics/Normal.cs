namespace Experiments.Sweeps.Numerics;

/// <summary>
/// The standard normal distribution to near double precision, tails included: erfc after fdlibm (Sun's s_erf.c),
/// log Φ with the asymptotic series far in the left tail, log Φ(b) − Φ(a) without cancellation, and the inverse of
/// the truncated normal's CDF (what TPE samples from and scores with).
/// </summary>
internal static class Normal
{
    private const double Sqrt2 = 1.4142135623730951;
    private const double LogSqrt2Pi = 0.91893853320467274178;

    public static double LogPdf(double z) => -0.5 * z * z - LogSqrt2Pi;

    public static double Cdf(double z) => 0.5 * Erfc(-z / Sqrt2);

    /// <summary>log Φ(z).</summary>
    public static double LogCdf(double z)
    {
        if (z > 6) return -0.5 * Erfc(z / Sqrt2); // log(1 − ε) ≈ −ε
        if (z > -20) return Math.Log(Cdf(z));
        // log Φ(z) = log φ(z) − log(−z) + log(1 − 1/z² + 3/z⁴ − 15/z⁶ + 105/z⁸)
        var z2 = 1 / (z * z);
        var series = 1 - z2 * (1 - 3 * z2 * (1 - 5 * z2 * (1 - 7 * z2)));
        return LogPdf(z) - Math.Log(-z) + Math.Log(series);
    }

    /// <summary>log(Φ(b) − Φ(a)) for a &lt; b.</summary>
    public static double LogMass(double a, double b)
    {
        if (!(a < b)) return double.NegativeInfinity;
        if (a >= 0) (a, b) = (-b, -a); // symmetry keeps the arithmetic in the left tail, where it is exact
        if (b <= 0)
        {
            var logB = LogCdf(b);
            return logB + Log1MinusExp(LogCdf(a) - logB);
        }
        // a < 0 < b: 1 − Φ(a) − Φ(−b), both small terms exact.
        return Math.Log(Math.Max(1 - Cdf(a) - Cdf(-b), double.Epsilon));
    }

    /// <summary>log(1 − e^x) for x ≤ 0.</summary>
    private static double Log1MinusExp(double x) =>
        x > -0.6931471805599453 ? Math.Log(-ExpM1(x)) : Log1P(-Math.Exp(x));

    /// <summary>log(1 + x), accurate near 0 (Goldberg's correction; .NET has no exact one).</summary>
    public static double Log1P(double x)
    {
        var u = 1 + x;
        return u == 1 ? x : Math.Log(u) * x / (u - 1);
    }

    /// <summary>e^x − 1, accurate near 0 (Kahan's correction).</summary>
    public static double ExpM1(double x)
    {
        if (Math.Abs(x) < 1e-5) return x + x * x / 2 + x * x * x / 6;
        var u = Math.Exp(x);
        if (u == 1) return x;
        var um1 = u - 1;
        return um1 == -1 ? -1 : um1 * x / Math.Log(u);
    }

    private static double LogAddExp(double a, double b)
    {
        if (double.IsNegativeInfinity(a)) return b;
        if (double.IsNegativeInfinity(b)) return a;
        var max = Math.Max(a, b);
        return max + Math.Log(Math.Exp(a - max) + Math.Exp(b - max));
    }

    /// <summary>The z with log Φ(z) = <paramref name="logP"/>: Acklam's rational start (or the tail's asymptote), then Newton on log Φ.</summary>
    public static double InverseLogCdf(double logP)
    {
        if (logP >= 0) return double.PositiveInfinity;
        var z = logP > -700 ? InverseCdfStart(Math.Exp(logP)) : -Math.Sqrt(-2 * logP - Math.Log(-2 * logP) - 2 * LogSqrt2Pi);
        for (var i = 0; i < 50; i++)
        {
            var logCdf = LogCdf(z);
            // d/dz log Φ(z) = φ(z) / Φ(z)
            var step = (logCdf - logP) / Math.Exp(LogPdf(z) - logCdf);
            z -= step;
            if (Math.Abs(step) <= 1e-14 * Math.Max(1, Math.Abs(z))) break;
        }
        return z;
    }

    /// <summary>A draw of the standard normal truncated to [a, b] at quantile <paramref name="q"/> in (0, 1).</summary>
    public static double TruncatedQuantile(double a, double b, double q)
    {
        if (a >= 0)
            return -TruncatedQuantile(-b, -a, 1 - q); // work in the left tail
        var logMass = LogMass(a, b);
        var z = InverseLogCdf(LogAddExp(LogCdf(a), Math.Log(q) + logMass));
        return Math.Clamp(z, a, b);
    }

    /// <summary>Acklam's approximation of Φ⁻¹ (relative error 1.15e-9), refined by the caller.</summary>
    private static double InverseCdfStart(double p)
    {
        if (p <= 0) return double.NegativeInfinity;
        if (p >= 1) return double.PositiveInfinity;
        double[] a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00];
        double[] b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01];
        double[] c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00];
        double[] d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00];
        const double low = 0.02425;
        if (p < low)
        {
            var q = Math.Sqrt(-2 * Math.Log(p));
            return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
        }
        if (p > 1 - low)
        {
            var q = Math.Sqrt(-2 * Math.Log(1 - p));
            return -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
        }
        var r = p - 0.5;
        var s = r * r;
        return (((((a[0] * s + a[1]) * s + a[2]) * s + a[3]) * s + a[4]) * s + a[5]) * r / (((((b[0] * s + b[1]) * s + b[2]) * s + b[3]) * s + b[4]) * s + 1);
    }

    /// <summary>The complementary error function (fdlibm's s_erf.c, |error| &lt; 1 ulp).</summary>
    public static double Erfc(double x)
    {
        const double erx = 8.45062911510467529297e-01;
        const double pp0 = 1.28379167095512558561e-01, pp1 = -3.25042107247001499370e-01, pp2 = -2.84817495755985104766e-02, pp3 = -5.77027029648944159157e-03, pp4 = -2.37630166566501626084e-05;
        const double qq1 = 3.97917223959155352819e-01, qq2 = 6.50222499887672944485e-02, qq3 = 5.08130628187576562776e-03, qq4 = 1.32494738004321644526e-04, qq5 = -3.96022827877536812320e-06;
        const double pa0 = -2.36211856075265944077e-03, pa1 = 4.14856118683748331666e-01, pa2 = -3.72207876035701323847e-01, pa3 = 3.18346619901161753674e-01, pa4 = -1.10894694282396677476e-01, pa5 = 3.54783043256182359371e-02, pa6 = -2.16637559486879084300e-03;
        const double qa1 = 1.06420880400844228286e-01, qa2 = 5.40397917702171048937e-01, qa3 = 7.18286544141962662868e-02, qa4 = 1.26171219808761642112e-01, qa5 = 1.36370839120290507362e-02, qa6 = 1.19844998467991074170e-02;
        const double ra0 = -9.86494403484714822705e-03, ra1 = -6.93858572707181764372e-01, ra2 = -1.05586262253232909814e+01, ra3 = -6.23753324503260060396e+01, ra4 = -1.62396669462573470355e+02, ra5 = -1.84605092906711035994e+02, ra6 = -8.12874355063065934246e+01, ra7 = -9.81432934416914548592e+00;
        const double sa1 = 1.96512716674392571292e+01, sa2 = 1.37657754143519042600e+02, sa3 = 4.34565877475229228821e+02, sa4 = 6.45387271733267880336e+02, sa5 = 4.29008140027567833386e+02, sa6 = 1.08635005541779435134e+02, sa7 = 6.57024977031928170135e+00, sa8 = -6.04244152148580987438e-02;
        const double rb0 = -9.86494292470009928597e-03, rb1 = -7.99283237680523006574e-01, rb2 = -1.77579549177547519889e+01, rb3 = -1.60636384855821916062e+02, rb4 = -6.37566443368389627722e+02, rb5 = -1.02509513161107724954e+03, rb6 = -4.83519191608651397019e+02;
        const double sb1 = 3.03380607434824582924e+01, sb2 = 3.25792512996573918826e+02, sb3 = 1.53672958608443695994e+03, sb4 = 3.19985821950859553908e+03, sb5 = 2.55305040643316442583e+03, sb6 = 4.74528541206955367215e+02, sb7 = -2.24409524465858183362e+01;

        if (double.IsNaN(x)) return double.NaN;
        if (double.IsPositiveInfinity(x)) return 0;
        if (double.IsNegativeInfinity(x)) return 2;
        var ax = Math.Abs(x);
        if (ax < 0.84375)
        {
            if (ax < 1.3877787807814457e-17) return 1 - x;
            var z = x * x;
            var r = pp0 + z * (pp1 + z * (pp2 + z * (pp3 + z * pp4)));
            var s = 1 + z * (qq1 + z * (qq2 + z * (qq3 + z * (qq4 + z * qq5))));
            var y = r / s;
            return x < 0.25 ? 1 - (x + x * y) : 0.5 - (x - 0.5 + x * y);
        }
        if (ax < 1.25)
        {
            var s = ax - 1;
            var p = pa0 + s * (pa1 + s * (pa2 + s * (pa3 + s * (pa4 + s * (pa5 + s * pa6)))));
            var q = 1 + s * (qa1 + s * (qa2 + s * (qa3 + s * (qa4 + s * (qa5 + s * qa6)))));
            return x >= 0 ? 1 - erx - p / q : 1 + (erx + p / q);
        }
        if (ax < 28)
        {
            var s = 1 / (ax * ax);
            double r, ss;
            if (ax < 1 / 0.35)
            {
                r = ra0 + s * (ra1 + s * (ra2 + s * (ra3 + s * (ra4 + s * (ra5 + s * (ra6 + s * ra7))))));
                ss = 1 + s * (sa1 + s * (sa2 + s * (sa3 + s * (sa4 + s * (sa5 + s * (sa6 + s * (sa7 + s * sa8)))))));
            }
            else
            {
                if (x < -6) return 2;
                r = rb0 + s * (rb1 + s * (rb2 + s * (rb3 + s * (rb4 + s * (rb5 + s * rb6)))));
                ss = 1 + s * (sb1 + s * (sb2 + s * (sb3 + s * (sb4 + s * (sb5 + s * (sb6 + s * sb7))))));
            }
            // z is ax with its low 32 bits cleared, so that exp(−z²) is exact and the error stays in the small term.
            var zBits = BitConverter.DoubleToInt64Bits(ax) & unchecked((long)0xFFFFFFFF00000000UL);
            var zz = BitConverter.Int64BitsToDouble(zBits);
            var e = Math.Exp(-zz * zz - 0.5625) * Math.Exp((zz - ax) * (zz + ax) + r / ss);
            return x > 0 ? e / ax : 2 - e / ax;
        }
        return x > 0 ? 0 : 2;
    }
}
