namespace Interop.ReliabilityTests.Infra;

/// <summary>How long the suite runs: SOAK=1 (make soak) asks for the long variants.</summary>
internal static class Tools
{
    public static bool Soak => Environment.GetEnvironmentVariable("SOAK") == "1";
}
